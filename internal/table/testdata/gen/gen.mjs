// Writes the Parquet fixtures of internal/table's tests with DuckDB, a
// writer independent of the reader under test: fixture.csv (made here,
// deterministically) is read by DuckDB with explicit types and copied to
// Parquet with different compressions, encodings and row-group sizes. The
// tests read each Parquet file back and expect exactly fixture.csv.
//
//   cd internal/table/testdata/gen && npm ci && node gen.mjs
import { DuckDBInstance } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';

const out = new URL('..', import.meta.url).pathname;
const skies = ['sun', 'rain', 'fog', 'drizzle', 'snow'];
const rows = ['id,when,day,temp,ratio,count,sky,ok,note,price'];
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
for (let i = 1; i <= 300; i++) {
  const when = new Date(Date.UTC(2024, 0, 1) + i * 3600_000 * 7).toISOString().replace('.000Z', 'Z');
  const day = when.slice(0, 10);
  const temp = i % 17 === 0 ? '' : String(Math.round((rand() * 40 - 10) * 100) / 100);
  const ratio = ['0.5', '0.25', '0.125', '1', '-2.5'][i % 5];
  const count = String(Math.floor(rand() * 1000) - 100);
  const sky = i % 23 === 0 ? '' : skies[Math.floor(rand() * skies.length)];
  const ok = i % 3 === 0 ? 'false' : 'true';
  let note = i % 11 === 0 ? '' : `n${i}`;
  if (i === 5) note = '"a, b"'; // a comma, quoted
  if (i === 6) note = '"say ""hi"""'; // quotes
  if (i === 7) note = 'héllo wörld';
  const price = (Math.floor(rand() * 100000) / 100).toFixed(2);
  rows.push([i, when, day, temp, ratio, count, sky, ok, note, price].join(','));
}
writeFileSync(out + 'fixture.csv', rows.join('\n') + '\n');

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`CREATE TABLE t AS SELECT
  id::INTEGER AS id, "when"::TIMESTAMP AS "when", day::DATE AS day, temp::DOUBLE AS temp,
  ratio::FLOAT AS ratio, count::BIGINT AS count, sky::VARCHAR AS sky, ok::BOOLEAN AS ok,
  note::VARCHAR AS note, price::DECIMAL(9,2) AS price
  FROM read_csv('${out}fixture.csv', header = true, all_varchar = true)`);
const variants = {
  'snappy.parquet': "COMPRESSION snappy",
  'zstd.parquet': "COMPRESSION zstd, ROW_GROUP_SIZE 64",
  'gzip-v2.parquet': "COMPRESSION gzip, PARQUET_VERSION v2",
  'plain.parquet': "COMPRESSION uncompressed, DICTIONARY_SIZE_LIMIT 1",
};
for (const [name, opts] of Object.entries(variants)) {
  await con.run(`COPY (SELECT * FROM t ORDER BY id) TO '${out}${name}' (FORMAT parquet, ${opts})`);
}
console.log('wrote', Object.keys(variants).join(', '));
