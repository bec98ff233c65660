package = "bulwarkdemo"
version = "0.2.0-1"
source = {
   url = "git+https://example.invalid/bulwarkdemo.git",
   tag = "v0.2.0"
}
description = {
   summary = "A test rock for bulwark's LuaRocks analyzer",
   license = "MIT"
}
dependencies = {
   "lua >= 5.1"
}
build = {
   type = "builtin",
   modules = {
      bulwarkdemo = "src/bulwarkdemo.lua"
   }
}
