// Package shipping holds no code, only tests of what podium ships besides
// its binary: the container actions (action.yml, actions/*/action.yml), the
// example workflows, the GitLab CI/CD components (templates/*.yml) and the
// docs that quote them. The tests check them against the public JSON
// Schemas, actionlint and podium's own workflow rules, drive the root
// action's entrypoint the way the runner does, and keep every file quoted
// in the docs identical to the file itself.
package shipping
