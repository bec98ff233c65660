#!/usr/bin/env bash
# Layer script for the `lang` test image: bash ruby-php-dotnet.sh ROOTFS EXPECTED_DIR (see scripts/build-test-images.py).
#
# What the layer holds, and how real it is:
#
# Ruby (real): Debian's `ruby` and `ruby-rack` from apt. ruby-rack's gemspec lives under
#   /usr/share/rubygems-integration/ and is owned by dpkg: it must be reported as the deb only,
#   never as a gem (the same holds for libruby's default and bundled gemspecs). A real gem,
#   `bulwark-hello`, is built with `gem build` from a tiny gemspec and installed with
#   `gem install --local` (no network), so a gemspec dpkg does not own exists under
#   /var/lib/gems/*/specifications/.
#   /app/ruby/Gemfile.lock is a HAND-WRITTEN fixture (bundler cannot resolve without
#   rubygems.org); its expected gems are written to gemfile-lock.tsv.
# PHP (real): Debian's `composer`; /app/php is a project whose only repository is a local
#   `path` repository of two tiny packages (acme/greeter required, acme/testkit require-dev),
#   packagist disabled, so `composer update` runs offline and writes a real composer.lock and
#   vendor/composer/installed.json (Composer 2 form).
# .NET (hand-written): Debian has no .NET SDK, so /app/dotnet/{app.deps.json,
#   packages.lock.json,app.csproj} are HAND-WRITTEN fixtures in the forms the SDK writes; their
#   expected packages are written to dotnet.tsv.
#
# Ground truth in EXPECTED_DIR:
#   gem-list.txt          `gem list --local` in the chroot
#   gems.tsv              every spec rubygems loads: name, version, platform, spec file, owning
#                         deb package (`dpkg -S`) or `-`
#   gemfile-lock.tsv      the Gemfile.lock fixture's gems: name, version
#   composer.json         `composer show --locked --format=json`
#   composer-lock.tsv     composer.lock read by php itself: name, version, dev (0/1)
#   dotnet.tsv            the .NET fixtures' packages: file, name, version, dev (0/1)
#
# Run standalone (`bash ruby-php-dotnet.sh /tmp/r /tmp/e` on a directory that is not a Debian
# root filesystem) it writes only the hand-written fixtures and says it skipped the chroot parts.
# Idempotent: a second run on the same root rebuilds the same state.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 ROOTFS EXPECTED_DIR" >&2
    exit 2
fi
ROOT=$(realpath "$1")
EXP=$(realpath "$2")
mkdir -p "$EXP"

in_chroot() {
    chroot "$ROOT" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root TERM=dumb \
        /bin/sh -c "$1"
}

can_chroot=0
if [ -x "$ROOT/usr/bin/apt-get" ] && [ -x "$ROOT/bin/sh" ] && [ "$(id -u)" = 0 ]; then
    can_chroot=1
fi

# --------------------------------------------------------------------------------------------
# Ruby: Gemfile.lock fixture (hand-written, bundler 2.4 layout: GIT, PATH, GEM with platform
# variants, PLATFORMS, DEPENDENCIES, RUBY VERSION, BUNDLED WITH).

mkdir -p "$ROOT/app/ruby"
cat >"$ROOT/app/ruby/Gemfile" <<'EOF'
source "https://rubygems.org"

gem "hello-app", path: "."
gem "mustermann", git: "https://github.com/sinatra/mustermann.git", branch: "main"
gem "nokogiri", "~> 1.14"
gem "puma", "~> 6.1"
gem "sinatra", "~> 3.0"
EOF
cat >"$ROOT/app/ruby/Gemfile.lock" <<'EOF'
GIT
  remote: https://github.com/sinatra/mustermann.git
  revision: 6e5bd1b5b4b6a4a0e5e0cd6b59c8f3a7a8bd2f0f
  branch: main
  specs:
    mustermann (3.0.0)
      ruby2_keywords (~> 0.0.1)

PATH
  remote: .
  specs:
    hello-app (0.1.0)
      sinatra (~> 3.0)

GEM
  remote: https://rubygems.org/
  specs:
    nio4r (2.5.9)
    nokogiri (1.14.2-aarch64-linux)
      racc (~> 1.4)
    nokogiri (1.14.2-x86_64-linux)
      racc (~> 1.4)
    puma (6.1.1)
      nio4r (~> 2.0)
    racc (1.6.2)
    rack (2.2.7)
    rack-protection (3.0.5)
      rack
    ruby2_keywords (0.0.5)
    sinatra (3.0.5)
      mustermann (~> 3.0)
      rack (~> 2.2, >= 2.2.4)
      rack-protection (= 3.0.5)
      tilt (~> 2.0)
    tilt (2.1.0)

PLATFORMS
  aarch64-linux
  x86_64-linux

DEPENDENCIES
  hello-app!
  mustermann!
  nokogiri (~> 1.14)
  puma (~> 6.1)
  sinatra (~> 3.0)

RUBY VERSION
   ruby 3.1.2p20

BUNDLED WITH
   2.4.7
EOF
printf '%s\t%s\n' \
    hello-app 0.1.0 mustermann 3.0.0 nio4r 2.5.9 nokogiri 1.14.2 puma 6.1.1 racc 1.6.2 \
    rack 2.2.7 rack-protection 3.0.5 ruby2_keywords 0.0.5 sinatra 3.0.5 tilt 2.1.0 \
    >"$EXP/gemfile-lock.tsv"

# --------------------------------------------------------------------------------------------
# .NET fixtures (hand-written: no SDK in Debian), in the forms `dotnet publish`,
# `dotnet restore --use-lock-file` and a project file have.

mkdir -p "$ROOT/app/dotnet"
cat >"$ROOT/app/dotnet/app.deps.json" <<'EOF'
{
  "runtimeTarget": {
    "name": ".NETCoreApp,Version=v6.0",
    "signature": ""
  },
  "compilationOptions": {},
  "targets": {
    ".NETCoreApp,Version=v6.0": {
      "app/1.0.0": {
        "dependencies": {
          "Common": "1.0.0",
          "Newtonsoft.Json": "13.0.1",
          "Serilog.Sinks.Console": "4.1.0"
        },
        "runtime": {
          "app.dll": {}
        }
      },
      "Newtonsoft.Json/13.0.1": {
        "runtime": {
          "lib/net6.0/Newtonsoft.Json.dll": {
            "assemblyVersion": "13.0.0.0",
            "fileVersion": "13.0.1.25517"
          }
        }
      },
      "Serilog/2.12.0": {
        "runtime": {
          "lib/net5.0/Serilog.dll": {
            "assemblyVersion": "2.0.0.0",
            "fileVersion": "2.12.0.0"
          }
        }
      },
      "Serilog.Sinks.Console/4.1.0": {
        "dependencies": {
          "Serilog": "2.12.0",
          "System.Text.Encodings.Web": "4.7.2"
        },
        "runtime": {
          "lib/net5.0/Serilog.Sinks.Console.dll": {
            "assemblyVersion": "4.1.0.0",
            "fileVersion": "4.1.0.0"
          }
        }
      },
      "System.Text.Encodings.Web/4.7.2": {},
      "Common/1.0.0": {
        "runtime": {
          "Common.dll": {}
        }
      }
    }
  },
  "libraries": {
    "app/1.0.0": {
      "type": "project",
      "serviceable": false,
      "sha512": ""
    },
    "Newtonsoft.Json/13.0.1": {
      "type": "package",
      "serviceable": true,
      "sha512": "sha512-ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAHRFfZe0Dw9HmA0+za13IdyrgJwpkDTDA9fHaxOrt20A==",
      "path": "newtonsoft.json/13.0.1",
      "hashPath": "newtonsoft.json.13.0.1.nupkg.sha512"
    },
    "Serilog/2.12.0": {
      "type": "package",
      "serviceable": true,
      "sha512": "sha512-xaiJLIdu6rYMKfQMYUZgTy8YK7SMZjB4Yk50C/u//Z4OsvxkUfSPJy4nknfvwAC34yr13q7kcyh4grbwhSxyZg==",
      "path": "serilog/2.12.0",
      "hashPath": "serilog.2.12.0.nupkg.sha512"
    },
    "Serilog.Sinks.Console/4.1.0": {
      "type": "package",
      "serviceable": true,
      "sha512": "sha512-K6N5q+5fetjnJPvCmkWOpJ/V8IEIoMIB1s86OzBrbxwTyHxdx3pmz4H+8+O/Dc/ftUX12DM1aynx/dDowkwzqg==",
      "path": "serilog.sinks.console/4.1.0",
      "hashPath": "serilog.sinks.console.4.1.0.nupkg.sha512"
    },
    "System.Text.Encodings.Web/4.7.2": {
      "type": "package",
      "serviceable": true,
      "sha512": "sha512-iTUgB/WtrZ1sWZs84F2hwyQhiRH6QNjQv2DkwrH+WP6RoFga2Q1m3f2/Q7HO18rLsn4ovERehWkSPlL4Gb3nzA==",
      "path": "system.text.encodings.web/4.7.2",
      "hashPath": "system.text.encodings.web.4.7.2.nupkg.sha512"
    },
    "Common/1.0.0": {
      "type": "project",
      "serviceable": false,
      "sha512": ""
    }
  }
}
EOF
cat >"$ROOT/app/dotnet/packages.lock.json" <<'EOF'
{
  "version": 1,
  "dependencies": {
    "net6.0": {
      "Microsoft.SourceLink.GitHub": {
        "type": "Direct",
        "requested": "[1.1.1, )",
        "resolved": "1.1.1",
        "contentHash": "IaJGnOv/M7UQjRJks7B6p7pbPnOwisYGOIzqCz5ilGFTApZ3ktOR+6zJ12ZRPInulBmdAf1SrGdDG2MU8g6XTw==",
        "dependencies": {
          "Microsoft.Build.Tasks.Git": "1.1.1",
          "Microsoft.SourceLink.Common": "1.1.1"
        }
      },
      "Newtonsoft.Json": {
        "type": "Direct",
        "requested": "[13.0.1, )",
        "resolved": "13.0.1",
        "contentHash": "ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAHRFfZe0Dw9HmA0+za13IdyrgJwpkDTDA9fHaxOrt20A=="
      },
      "Serilog.Sinks.Console": {
        "type": "Direct",
        "requested": "[4.1.0, )",
        "resolved": "4.1.0",
        "contentHash": "K6N5q+5fetjnJPvCmkWOpJ/V8IEIoMIB1s86OzBrbxwTyHxdx3pmz4H+8+O/Dc/ftUX12DM1aynx/dDowkwzqg==",
        "dependencies": {
          "Serilog": "2.10.0",
          "System.Text.Encodings.Web": "4.7.2"
        }
      },
      "Microsoft.Build.Tasks.Git": {
        "type": "Transitive",
        "resolved": "1.1.1",
        "contentHash": "AT3HlgTjsqHnWpBHSNeR0KxbLZD7bztlZVj7I8vgeYG9SYqbeFGh0TM/KVtC6fg53nrWHl3VfZFvb5BiQFcY6Q=="
      },
      "Microsoft.SourceLink.Common": {
        "type": "Transitive",
        "resolved": "1.1.1",
        "contentHash": "WMcGpWKrmJmzrNeuaEb23bEMnbtR/vLmvZtkAP5qWu7vQsY59GqfRJd65sFpBszbd2k/bQ8cs8eWawQKAabkVg=="
      },
      "Serilog": {
        "type": "Transitive",
        "resolved": "2.12.0",
        "contentHash": "xaiJLIdu6rYMKfQMYUZgTy8YK7SMZjB4Yk50C/u//Z4OsvxkUfSPJy4nknfvwAC34yr13q7kcyh4grbwhSxyZg=="
      },
      "System.Text.Encodings.Web": {
        "type": "Transitive",
        "resolved": "4.7.2",
        "contentHash": "iTUgB/WtrZ1sWZs84F2hwyQhiRH6QNjQv2DkwrH+WP6RoFga2Q1m3f2/Q7HO18rLsn4ovERehWkSPlL4Gb3nzA=="
      },
      "common": {
        "type": "Project",
        "dependencies": {
          "Newtonsoft.Json": "[13.0.1, )"
        }
      }
    },
    "net6.0/linux-x64": {
      "System.Text.Encodings.Web": {
        "type": "Transitive",
        "resolved": "4.7.2",
        "contentHash": "iTUgB/WtrZ1sWZs84F2hwyQhiRH6QNjQv2DkwrH+WP6RoFga2Q1m3f2/Q7HO18rLsn4ovERehWkSPlL4Gb3nzA=="
      }
    }
  }
}
EOF
cat >"$ROOT/app/dotnet/app.csproj" <<'EOF'
<Project Sdk="Microsoft.NET.Sdk.Web">

  <PropertyGroup>
    <TargetFramework>net6.0</TargetFramework>
    <Nullable>enable</Nullable>
    <RestorePackagesWithLockFile>true</RestorePackagesWithLockFile>
  </PropertyGroup>

  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" Version="13.0.1" />
    <PackageReference Include="Serilog.Sinks.Console">
      <Version>4.1.0</Version>
    </PackageReference>
    <PackageReference Include="Microsoft.SourceLink.GitHub" Version="1.1.1" PrivateAssets="All" />
  </ItemGroup>

  <ItemGroup>
    <ProjectReference Include="..\Common\Common.csproj" />
  </ItemGroup>

</Project>
EOF
{
    printf '%s\t%s\t%s\t%s\n' \
        /app/dotnet/app.deps.json Newtonsoft.Json 13.0.1 0 \
        /app/dotnet/app.deps.json Serilog 2.12.0 0 \
        /app/dotnet/app.deps.json Serilog.Sinks.Console 4.1.0 0 \
        /app/dotnet/app.deps.json System.Text.Encodings.Web 4.7.2 0 \
        /app/dotnet/packages.lock.json Microsoft.Build.Tasks.Git 1.1.1 0 \
        /app/dotnet/packages.lock.json Microsoft.SourceLink.Common 1.1.1 0 \
        /app/dotnet/packages.lock.json Microsoft.SourceLink.GitHub 1.1.1 0 \
        /app/dotnet/packages.lock.json Newtonsoft.Json 13.0.1 0 \
        /app/dotnet/packages.lock.json Serilog 2.12.0 0 \
        /app/dotnet/packages.lock.json Serilog.Sinks.Console 4.1.0 0 \
        /app/dotnet/packages.lock.json System.Text.Encodings.Web 4.7.2 0 \
        /app/dotnet/app.csproj Microsoft.SourceLink.GitHub 1.1.1 1 \
        /app/dotnet/app.csproj Newtonsoft.Json 13.0.1 0 \
        /app/dotnet/app.csproj Serilog.Sinks.Console 4.1.0 0
} >"$EXP/dotnet.tsv"

if [ "$can_chroot" != 1 ]; then
    echo "ruby-php-dotnet.sh: $ROOT is not a Debian root filesystem this script can chroot into" \
        "(or not root): wrote the hand-written fixtures only, skipped ruby/gem and composer" >&2
    exit 0
fi

# --------------------------------------------------------------------------------------------
# Debian packages: ruby, one Debian ruby library (dpkg-owned gemspec), composer (pulls php-cli).

in_chroot 'apt-get update \
    && apt-get install -y --no-install-recommends ruby ruby-rack composer \
    && apt-get clean && rm -rf /var/lib/apt/lists/*'

# --------------------------------------------------------------------------------------------
# A real gem built and installed offline.

rm -rf "$ROOT/tmp/bulwark-hello"
mkdir -p "$ROOT/tmp/bulwark-hello/lib"
cat >"$ROOT/tmp/bulwark-hello/lib/bulwark_hello.rb" <<'EOF'
module BulwarkHello
  def self.greet(name) = "hello, #{name}"
end
EOF
cat >"$ROOT/tmp/bulwark-hello/bulwark-hello.gemspec" <<'EOF'
Gem::Specification.new do |s|
  s.name = "bulwark-hello"
  s.version = "0.3.1"
  s.summary = "A tiny gem the bulwark test image installs"
  s.authors = ["bulwark tests"]
  s.homepage = "https://example.invalid/bulwark-hello"
  s.license = "MIT"
  s.files = ["lib/bulwark_hello.rb"]
  s.required_ruby_version = ">= 3.0"
  s.add_runtime_dependency "rack", ">= 2.0"
  s.add_development_dependency "minitest", "~> 5.0"
end
EOF
in_chroot 'cd /tmp/bulwark-hello && gem build bulwark-hello.gemspec \
    && gem install --local --no-document ./bulwark-hello-0.3.1.gem'
rm -rf "$ROOT/tmp/bulwark-hello" "$ROOT/root/.local/share/gem" "$ROOT/root/.gem"

in_chroot 'gem list --local' >"$EXP/gem-list.txt"
# Every spec rubygems loads (default gems included) and which deb owns its file.
in_chroot 'ruby -e "Gem::Specification.each { |s| puts [s.name, s.version, s.platform, s.loaded_from].join(%Q(\t)) }" \
    | sort -u | while IFS="	" read -r name version platform spec; do
        owner=$(dpkg-query -S "$spec" 2>/dev/null | cut -d: -f1 | head -n1)
        printf "%s\t%s\t%s\t%s\t%s\n" "$name" "$version" "$platform" "$spec" "${owner:--}"
    done' >"$EXP/gems.tsv"
grep -q '^bulwark-hello	0\.3\.1	ruby	/var/lib/gems/[^	]*	-$' "$EXP/gems.tsv" || {
    echo "bulwark-hello is not installed as a non-Debian gem:" >&2
    cat "$EXP/gems.tsv" >&2
    exit 1
}
grep -q '^rack	.*	/usr/share/rubygems-integration/.*	ruby-rack$' "$EXP/gems.tsv" || {
    echo "ruby-rack's gemspec is not where expected:" >&2
    cat "$EXP/gems.tsv" >&2
    exit 1
}

# --------------------------------------------------------------------------------------------
# PHP: a composer project over a local path repository, resolved offline.

P="$ROOT/app/php"
rm -rf "$P"
mkdir -p "$P/packages/greeter/src" "$P/packages/testkit/src"
cat >"$P/packages/greeter/composer.json" <<'EOF'
{
    "name": "acme/greeter",
    "description": "Says hello (bulwark test package)",
    "type": "library",
    "version": "v1.2.0",
    "license": ["MIT", "Apache-2.0"],
    "require": {
        "php": ">=7.4",
        "ext-json": "*"
    },
    "autoload": {"psr-4": {"Acme\\Greeter\\": "src/"}}
}
EOF
cat >"$P/packages/greeter/src/Greeter.php" <<'EOF'
<?php
namespace Acme\Greeter;

final class Greeter
{
    public function greet(string $name): string
    {
        return "hello, " . $name;
    }
}
EOF
cat >"$P/packages/testkit/composer.json" <<'EOF'
{
    "name": "acme/testkit",
    "description": "Test helpers (bulwark test package)",
    "type": "library",
    "version": "0.4.0",
    "license": "BSD-3-Clause",
    "require": {
        "php": ">=7.4",
        "acme/greeter": "^1.0"
    },
    "autoload": {"psr-4": {"Acme\\Testkit\\": "src/"}}
}
EOF
cat >"$P/packages/testkit/src/Assert.php" <<'EOF'
<?php
namespace Acme\Testkit;

final class Assert
{
    public static function same($a, $b): bool
    {
        return $a === $b;
    }
}
EOF
cat >"$P/composer.json" <<'EOF'
{
    "name": "bulwark/php-app",
    "description": "bulwark test project",
    "type": "project",
    "license": "MIT",
    "repositories": [
        {"type": "path", "url": "packages/*", "options": {"symlink": false}},
        {"packagist.org": false}
    ],
    "require": {
        "php": ">=7.4",
        "acme/greeter": "^1.2"
    },
    "require-dev": {
        "acme/testkit": "^0.4"
    },
    "config": {
        "allow-plugins": false,
        "sort-packages": true
    }
}
EOF
in_chroot 'cd /app/php && COMPOSER_ALLOW_SUPERUSER=1 COMPOSER_HOME=/tmp/composer-home \
    COMPOSER_CACHE_DIR=/tmp/composer-cache COMPOSER_NO_AUDIT=1 COMPOSER_DISABLE_NETWORK=1 \
    composer update --no-interaction --no-progress --no-audit'
in_chroot 'cd /app/php && COMPOSER_ALLOW_SUPERUSER=1 COMPOSER_HOME=/tmp/composer-home \
    COMPOSER_CACHE_DIR=/tmp/composer-cache COMPOSER_DISABLE_NETWORK=1 \
    composer show --locked --format=json' >"$EXP/composer.json"
in_chroot 'php -r '\''
    $lock = json_decode(file_get_contents("/app/php/composer.lock"), true);
    foreach (["packages" => 0, "packages-dev" => 1] as $key => $dev) {
        foreach ($lock[$key] ?? [] as $p) {
            printf("%s\t%s\t%d\n", $p["name"], $p["version"], $dev);
        }
    }
'\''' >"$EXP/composer-lock.tsv"
rm -rf "$ROOT/tmp/composer-home" "$ROOT/tmp/composer-cache"
test -s "$P/composer.lock" && test -s "$P/vendor/composer/installed.json"
echo "ruby-php-dotnet.sh: done; ground truth in $EXP" >&2
