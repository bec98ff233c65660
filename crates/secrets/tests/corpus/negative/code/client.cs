var cred = new NetworkCredential(user, password);
var de = new DirectoryEntry(path, user, pass);
