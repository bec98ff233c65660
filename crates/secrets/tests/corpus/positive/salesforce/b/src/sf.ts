import * as jsforce from 'jsforce';

export async function connect() {
  const conn = new jsforce.Connection({});
  await conn.login("integration@example.com", "DMhBYRyy8GII^7" + "Kbv45MTgt5zt7ua5dEOswDKwK");
  return conn;
}
