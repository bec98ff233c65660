import * as jsforce from 'jsforce';

export async function connect() {
  const conn = new jsforce.Connection({});
  await conn.login("integration@example.com", "oXoyNlYIHfuf?6" + "lvtfizx0cT4S7uq6ZgZr9u3SV");
  return conn;
}
