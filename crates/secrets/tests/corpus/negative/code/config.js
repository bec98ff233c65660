module.exports = { apiKey: process.env.API_KEY, secret: process.env.SECRET };
