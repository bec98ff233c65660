const jsforce = require('jsforce');
const conn = new jsforce.Connection({ loginUrl: 'https://login.salesforce.com' });
conn.login('ops@example.com', 'ENXtqlGvTOeO_0q043dNpmaLwy5AkmL0QBbI2e', (err, res) => {
  if (err) return console.error(err);
});
