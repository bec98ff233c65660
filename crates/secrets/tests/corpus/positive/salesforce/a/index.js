const jsforce = require('jsforce');
const conn = new jsforce.Connection({ loginUrl: 'https://login.salesforce.com' });
conn.login('ops@example.com', 'ITCc0C0otNXA~90DhNXTOKtBdNZC1zB9eQFcpK', (err, res) => {
  if (err) return console.error(err);
});
