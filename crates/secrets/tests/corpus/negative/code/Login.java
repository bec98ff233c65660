String password = request.getParameter("password");
if (password == null) throw new AuthException();
