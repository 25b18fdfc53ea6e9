import { createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
const c0 = createClient({ connection: createChdbConnection({ path: '/tmp/smoke/ch2' }) })
await c0.command({query:'CREATE DATABASE IF NOT EXISTS dbx'})
const c = createClient({ database: 'dbx', connection: createChdbConnection({ path: '/tmp/smoke/ch2' }) })
await c.command({query:'CREATE TABLE IF NOT EXISTS e (id String) ENGINE=MergeTree ORDER BY id'})
await c.insert({table:'e', values:[{id:'a'}], format:'JSONEachRow'})
const r = await c0.query({query:"SELECT database, name FROM system.tables WHERE name='e'", format:'JSONEachRow'})
console.log(await r.json())
const r2 = await c0.query({query:"SELECT currentDatabase() d", format:'JSONEachRow'})
console.log(await r2.json())
const r3 = await c.query({query:"SELECT currentDatabase() d", format:'JSONEachRow'})
console.log(await r3.json())
import { PGlite } from '@electric-sql/pglite'
let t=Date.now(); const pg = new PGlite(); await pg.query('select 1'); console.log('init', Date.now()-t)
await pg.exec('create table x(a int)')
t=Date.now(); const dump = await pg.dumpDataDir('none'); console.log('dump', Date.now()-t, dump.size)
t=Date.now(); const pg2 = new PGlite({loadDataDir: dump}); await pg2.query('select * from x'); console.log('load', Date.now()-t)
