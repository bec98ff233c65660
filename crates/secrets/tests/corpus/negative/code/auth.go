token := os.Getenv("TOKEN")
if token == "" { return errMissingToken }
