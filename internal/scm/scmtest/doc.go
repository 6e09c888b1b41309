// Package scmtest fakes GitHub and GitLab for tests: httptest servers that
// answer the REST calls podium makes as the real APIs do, keep their state
// in real bare git repositories, count requests and inject faults. They
// listen on 127.0.0.1, so a test can also point a built podium binary at
// them through GITHUB_API_URL or CI_API_V4_URL.
package scmtest
