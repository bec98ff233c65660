# -*- encoding: utf-8 -*-
# stub: sinatra 3.0.5 ruby lib

Gem::Specification.new do |s|
  s.name = "sinatra".freeze
  s.version = "3.0.5"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.authors = ["Blake Mizerany".freeze]
  s.licenses = ["MIT".freeze]
  s.add_runtime_dependency(%q<rack>.freeze, ["~> 2.2", ">= 2.2.4"])
end
