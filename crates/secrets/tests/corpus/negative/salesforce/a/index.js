const jsforce = require('jsforce');
const conn = new jsforce.Connection({});
conn.login(process.env.SF_USER, process.env.SF_PASSWORD + process.env.SF_TOKEN);
