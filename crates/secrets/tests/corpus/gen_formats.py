#!/usr/bin/env python3
"""Writes the credential-file families of the labelled corpus (positive/<family>/... and
negative/<family>/...) next to this script. Every file is shaped after its format's own
documentation; every secret is random from a fixed seed (structurally valid, never real).
Re-running it rewrites the same bytes.

usage: python3 crates/secrets/tests/corpus/gen_formats.py
"""
import base64
import os
import random
import string

ROOT = os.path.dirname(os.path.abspath(__file__))
R = random.Random(17)
AN = string.ascii_letters + string.digits
CRYPT = "./" + string.digits + string.ascii_uppercase + string.ascii_lowercase
HEX = "0123456789abcdef"
PUNCT = "!#%&*+-=?@^_~"


def s(cs, n):
    return "".join(R.choice(cs) for _ in range(n))


def pw(n=14):
    # a password with letters, digits and a symbol
    return s(AN, n - 2) + R.choice(PUNCT) + R.choice(string.digits)


def md5crypt():
    return f"$1${s(CRYPT, 8)}${s(CRYPT, 22)}"


def apr1():
    return f"$apr1${s(CRYPT, 8)}${s(CRYPT, 22)}"


def bcrypt(v="2y"):
    return f"${v}$10${s(CRYPT, 53)}"


def sha256crypt():
    return f"$5${s(CRYPT, 16)}${s(CRYPT, 43)}"


def sha512crypt():
    return f"$6${s(CRYPT, 16)}${s(CRYPT, 86)}"


def yescrypt():
    return f"$y$j9T${s(CRYPT, 22)}${s(CRYPT, 43)}"


def write(kind, family, rel, text, binary=False):
    path = os.path.join(ROOT, kind, family, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(text if binary else text.encode())


def pos(family, rel, text, binary=False):
    write("positive", family, rel, text, binary)


def neg(family, rel, text, binary=False):
    write("negative", family, rel, text, binary)


# --- class 1: credential files -------------------------------------------------------
pos("git-credentials", "a/.git-credentials",
    f"https://deploy:{pw(20)}@git.internal.example\n")
pos("git-credentials", "b/.git-credentials",
    f"https://alice%40corp:{pw(16)}@bitbucket.example.org\nhttp://ci:{s(AN, 40)}@gitea.local:3000\n")
neg("git-credentials", "a/.git-credentials",
    "https://deploy:${GIT_TOKEN}@git.internal.example\nhttps://anonymous@mirror.example\n")

pos("netrc", "a/.netrc",
    f"machine ftp.example.net\n  login mirror\n  password {pw()}\n\nmachine api.example.com login bot password {s(AN, 32)}\n")
pos("netrc", "b/_netrc",
    f"default login anonymous password {pw(12)}\nmacdef init\ncd /pub\nbinary\n\n")
neg("netrc", "a/.netrc",
    "machine api.example.com\n  login <YOUR_LOGIN>\n  password <YOUR_PASSWORD>\n")

pos("pgpass", "a/.pgpass",
    f"# hostname:port:database:username:password\ndb.prod.internal:5432:orders:app:{pw()}\n")
pos("pgpass", "b/.pgpass",
    f"*:*:*:replicator:{s(AN, 10)}\\:{s(AN, 6)}\nlocalhost:5433:*:postgres:{pw(18)}\n")
neg("pgpass", "a/.pgpass", "# host:port:db:user:password\n*:*:*:postgres:changeme\nlocalhost:5432:app:app:\n")

locked = "".join(f"{u}:*:19700:0:99999:7:::\n" for u in
                 ["daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "nobody"])
pos("shadow", "a/etc/shadow", f"root:{sha512crypt()}:19700:0:99999:7:::\n{locked}admin:{yescrypt()}:19701:0:99999:7:::\n")
pos("shadow", "b/etc/shadow", f"root:!{sha256crypt()}:19700:0:99999:7:::\n{locked}web:{md5crypt()}:19000::::::\n")
pos("shadow", "c/etc/gshadow", f"root:*::\nwheel:{sha512crypt()}:admin:admin,ops\n")
neg("shadow", "a/etc/shadow", "root:*:19700:0:99999:7:::\n" + locked + "svc:!:19700::::::\nold:!!:19700::::::\nx:!*:19700::::::\n")
neg("shadow", "b/etc/gshadow", "root:*::\nadm:*::\nwheel:!::admin\n")
neg("shadow", "c/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")

sha1 = base64.b64encode(R.randbytes(20)).decode()
pos("htpasswd", "a/.htpasswd", f"alice:{apr1()}\nbob:{bcrypt()}\ncarol:{{SHA}}{sha1}\n")
pos("htpasswd", "b/.htpasswd", f"admin:{s(CRYPT, 13)}\n")
pos("htpasswd", "c/ftpd.passwd", f"upload:{md5crypt()}:2001:2001::/srv/ftp/upload:/bin/false\n")
pos("htpasswd", "d/etc/proftpd/acme", f"acme_ftp:{sha512crypt()}:1005:1005:acme:/home/acme/public_html:/bin/ftpsh\n")
neg("htpasswd", "a/.htpasswd", "# htpasswd -B .htpasswd <user>\nadmin:*\n")

pos("esmtprc", "a/.esmtprc",
    f'identity ops@example.com\n  hostname smtp.example.com:587\n  username "ops@example.com"\n  password "{pw()}"\n  starttls required\n')
pos("esmtprc", "b/.esmtprc", f"hostname=mail.example.org:25\nusername=relay\npassword={pw(12)}\n")
neg("esmtprc", "a/.esmtprc", 'identity me@example.com\n  hostname smtp.example.com:587\n  username "me"\n  password "yourpassword"\n')

pos("irc", "a/.irssi/config",
    f'servers = (\n  {{ address = "irc.libera.chat"; chatnet = "liberachat"; port = "6697"; use_tls = "yes"; password = "{pw()}"; }}\n);\n'
    f'chatnets = {{ liberachat = {{ type = "IRC"; sasl_mechanism = "PLAIN"; sasl_username = "nick"; sasl_password = "{pw()}"; }}; }};\n')
pos("irc", "b/.config/hexchat/servlist.conf",
    f"v=2.16.1\n\nN=Libera.Chat\nI=nick\nU=nick\nP={pw()}\nL=6\nE=UTF-8 (Unicode)\nF=19\nD=0\nS=irc.libera.chat\n")
pos("irc", "c/.weechat/irc.conf",
    f'[server]\nlibera.addresses = "irc.libera.chat/6697"\nlibera.sasl_username = "nick"\nlibera.sasl_password = "{pw()}"\n')
neg("irc", "a/.irssi/config", 'servers = (\n  { address = "irc.libera.chat"; chatnet = "liberachat"; port = "6697"; password = ""; }\n);\n')
neg("irc", "b/.weechat/irc.conf", '[server]\nlibera.sasl_password = "${sec.data.libera}"\nlibera.password = ""\n')

fz = base64.b64encode(pw().encode()).decode()
pos("filezilla", "a/sitemanager.xml",
    f'<?xml version="1.0" encoding="UTF-8"?>\n<FileZilla3 version="3.66.0" platform="*nix">\n  <Servers>\n    <Server>\n      <Host>ftp.example.net</Host>\n      <Port>21</Port>\n      <Protocol>0</Protocol>\n      <Type>0</Type>\n      <User>webmaster</User>\n      <Pass encoding="base64">{fz}</Pass>\n      <Logontype>1</Logontype>\n      <Name>prod</Name>\n    </Server>\n  </Servers>\n</FileZilla3>\n')
pos("filezilla", "b/recentservers.xml",
    f'<?xml version="1.0" encoding="UTF-8"?>\n<FileZilla3>\n  <RecentServers>\n    <Server>\n      <Host>192.0.2.10</Host>\n      <Port>22</Port>\n      <Protocol>1</Protocol>\n      <User>deploy</User>\n      <Pass>{pw()}</Pass>\n    </Server>\n  </RecentServers>\n</FileZilla3>\n')
neg("filezilla", "a/sitemanager.xml",
    '<?xml version="1.0" encoding="UTF-8"?>\n<FileZilla3>\n  <Servers>\n    <Server>\n      <Host>ftp.example.net</Host>\n      <User>anonymous</User>\n      <Logontype>0</Logontype>\n    </Server>\n  </Servers>\n</FileZilla3>\n')

pos("sftp", "a/sftp-config.json",
    f'{{\n    // sftp, ftp or ftps\n    "type": "sftp",\n    "save_before_upload": true,\n    "upload_on_save": false,\n    "host": "example.com",\n    "user": "deploy",\n    "password": "{pw()}",\n    "port": "22",\n    "remote_path": "/var/www/html/",\n}}\n')
pos("sftp", "b/.ftpconfig",
    f'{{\n  "protocol": "ftp",\n  "host": "ftp.example.org",\n  "port": 21,\n  "user": "web",\n  "pass": "{pw()}",\n  "promptForPass": false,\n  "remote": "/"\n}}\n')
pos("sftp", "c/.remote-sync.json",
    f'{{\n  "transport": "scp",\n  "hostname": "10.0.0.8",\n  "port": 22,\n  "username": "root",\n  "password": "{pw()}",\n  "target": "/srv/app"\n}}\n')
pos("sftp", "d/deployment-config.json",
    f'{{\n  "host": "deploy.example.net",\n  "username": "ci",\n  "password": "{pw()}",\n  "remotePath": "/var/www"\n}}\n')
pos("sftp", "e/.vscode/sftp.json",
    f'{{\n  "name": "staging",\n  "host": "staging.example.com",\n  "protocol": "sftp",\n  "username": "dev",\n  "password": "{pw()}",\n  "remotePath": "/home/dev/app"\n}}\n')
neg("sftp", "a/sftp-config.json",
    '{\n    "type": "sftp",\n    "host": "example.com",\n    "user": "username",\n    //"password": "password",\n    "ssh_key_file": "~/.ssh/id_rsa",\n    "remote_path": "/example/path/"\n}\n')

pos("jetbrains", "a/.idea/WebServers.xml",
    f'<?xml version="1.0" encoding="UTF-8"?>\n<project version="4">\n  <component name="WebServers">\n    <option name="servers">\n      <webServer id="{s(HEX, 8)}" name="prod" url="http://example.com">\n        <fileTransfer host="ftp.example.com" port="21" rootFolder="/www" accessType="FTP" login="web" password="{s(HEX, 24)}" />\n      </webServer>\n    </option>\n  </component>\n</project>\n')
pos("jetbrains", "b/.idea/deployment.xml",
    f'<?xml version="1.0" encoding="UTF-8"?>\n<project version="4">\n  <component name="PublishConfigData">\n    <serverData>\n      <paths name="dev">\n        <serverdata><option name="password" value="{pw()}" /></serverdata>\n      </paths>\n    </serverData>\n  </component>\n</project>\n')
neg("jetbrains", "a/.idea/WebServers.xml",
    '<?xml version="1.0" encoding="UTF-8"?>\n<project version="4">\n  <component name="WebServers">\n    <option name="servers">\n      <webServer id="1" name="local" url="http://localhost" />\n    </option>\n  </component>\n</project>\n')

pos("dbeaver", "a/data-sources.xml",
    f'<?xml version="1.0" encoding="UTF-8"?>\n<data-sources>\n  <data-source id="mysql-1" provider="mysql" driver="mysql5" name="prod" save-password="true">\n    <connection host="db.example.com" port="3306" server="" database="shop" url="jdbc:mysql://db.example.com:3306/shop" user="shop" password="{pw()}" type="prod"/>\n  </data-source>\n</data-sources>\n')
pos("dbeaver", "b/.local/share/DBeaverData/workspace6/General/.dbeaver/credentials-config.json",
    R.randbytes(96), binary=True)
pos("dbeaver", "c/credentials-config.json", R.randbytes(64), binary=True)
neg("dbeaver", "a/data-sources.xml",
    '<?xml version="1.0" encoding="UTF-8"?>\n<data-sources>\n  <data-source id="pg" provider="postgresql" name="local">\n    <connection host="localhost" port="5432" database="postgres" user="postgres"/>\n  </data-source>\n</data-sources>\n')

pos("robomongo", "a/robomongo.json",
    f'{{\n  "connections": [\n    {{\n      "connectionName": "prod",\n      "serverHost": "mongo.example.com",\n      "serverPort": 27017,\n      "credentials": [\n        {{\n          "userName": "admin",\n          "userPassword": "{pw()}",\n          "databaseName": "admin",\n          "enabled": true\n        }}\n      ]\n    }}\n  ]\n}}\n')
pos("robomongo", "b/robo3t.json",
    f'{{"connections":[{{"connectionName":"stage","serverHost":"10.1.2.3","ssh":{{"host":"bastion","userName":"ops","userPassword":"{pw()}","enabled":true}}}}]}}\n')
neg("robomongo", "a/robo3t.json",
    '{"connections":[{"connectionName":"local","serverHost":"localhost","credentials":[{"userName":"","userPassword":"","enabled":false}]}]}\n')

pos("ventrilo", "a/ventrilo_srv.ini",
    f"[Server]\nName=Guild\nPhonetic=Guild\nAuth=0\nDuplicates=1\nAdminPassword={pw()}\nPassword={pw(10)}\nSendBuffer=0\n")
pos("ventrilo", "b/ventrilo_srv.ini", f"[Server]\nName=LAN\nAdminPassword={pw()}\nPassword=\n")
neg("ventrilo", "a/ventrilo_srv.ini", "[Server]\nName=Public\nAdminPassword=\nPassword=\n")

auth = base64.b64encode(f"ci:{pw()}".encode()).decode()
pos("docker", "a/.docker/config.json",
    f'{{\n\t"auths": {{\n\t\t"registry.example.com": {{\n\t\t\t"auth": "{auth}"\n\t\t}}\n\t}}\n}}\n')
auth2 = base64.b64encode(f"robot:{pw()}".encode()).decode()
pos("docker", "b/.dockercfg", f'{{"quay.example.io":{{"auth":"{auth2}","email":""}}}}\n')
neg("docker", "a/.docker/config.json", '{\n\t"auths": {\n\t\t"https://index.docker.io/v1/": {}\n\t},\n\t"credsStore": "desktop"\n}\n')

pos("pypirc", "a/.pypirc", f"[distutils]\nindex-servers =\n    internal\n\n[internal]\nrepository = https://pypi.example.com/\nusername = uploader\npassword = {pw()}\n")
pos("pypirc", "b/.pypirc", f"[pypi]\nusername: deploy\npassword: {pw(18)}\n")
neg("pypirc", "a/.pypirc", "[pypi]\nusername = __token__\npassword = <your token>\n")

pos("npmrc", "a/.npmrc", f"registry=https://npm.example.com/\n//npm.example.com/:_authToken={s(HEX, 8)}-{s(HEX, 4)}-{s(HEX, 4)}-{s(HEX, 4)}-{s(HEX, 12)}\n")
pos("npmrc", "b/.npmrc", f"always-auth=true\n//nexus.example.org/repository/npm/:_password={base64.b64encode(pw().encode()).decode()}\n//nexus.example.org/repository/npm/:username=ci\n")
neg("npmrc", "a/.npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")

pos("s3cfg", "a/.s3cfg", f"[default]\naccess_key = AKIA{s(string.ascii_uppercase + '234567', 16)}\nsecret_key = {s(AN + '+/', 40)}\nhost_base = s3.amazonaws.com\n")
pos("s3cfg", "b/.s3cfg", f"[default]\naccess_key = {s(string.ascii_uppercase, 20)}\nsecret_key = {s(AN, 40)}\nhost_base = objects.example.com\nuse_https = True\n")
neg("s3cfg", "a/.s3cfg", "[default]\naccess_key =\nsecret_key =\nhost_base = s3.amazonaws.com\n")

pos("boto", "a/.boto", f"[Credentials]\naws_access_key_id = AKIA{s(string.ascii_uppercase + '234567', 16)}\naws_secret_access_key = {s(AN + '/+', 40)}\n")
pos("boto", "b/.boto", f"[Credentials]\ngs_oauth2_refresh_token = 1/{s(AN + '-_', 43)}\n\n[GSUtil]\ndefault_project_id = demo\n")
neg("boto", "a/.boto", "[Credentials]\n# aws_secret_access_key = <your secret key>\n[Boto]\nhttps_validate_certificates = True\n")

pos("aws", "a/.aws/credentials", f"[default]\naws_access_key_id = AKIA{s(string.ascii_uppercase + '234567', 16)}\naws_secret_access_key = {s(AN + '/+', 40)}\n")
pos("aws", "b/.aws/credentials", f"[ci]\naws_access_key_id=ASIA{s(string.ascii_uppercase + '234567', 16)}\naws_secret_access_key={s(AN, 40)}\naws_session_token={s(AN + '/+', 180)}\n")
neg("aws", "a/.aws/credentials", "[default]\naws_access_key_id = YOUR_ACCESS_KEY_ID\naws_secret_access_key = YOUR_SECRET_ACCESS_KEY\n")

pos("mycnf", "a/.my.cnf", f"[client]\nuser=backup\npassword={pw()}\nhost=db.internal\n")
pos("mycnf", "b/.my.cnf", f'[mysqldump]\nuser = root\npassword = "{pw()}"\n')
neg("mycnf", "a/.my.cnf", "[client]\nuser=root\npassword=\n")

# --- more client credential stores --------------------------------------------------
pos("jenkins", "a/var/jenkins_home/credentials.xml",
    "<?xml version='1.1' encoding='UTF-8'?>\n<com.cloudbees.plugins.credentials.SystemCredentialsProvider plugin=\"credentials@1337\">\n  <domainCredentialsMap class=\"hudson.util.CopyOnWriteMap$Hash\">\n    <entry>\n      <java.util.concurrent.CopyOnWriteArrayList>\n        <com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>\n          <scope>GLOBAL</scope>\n          <id>deploy</id>\n          <username>deploy</username>\n"
    f"          <password>{{{base64.b64encode(R.randbytes(48)).decode()}}}</password>\n        </com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>\n      </java.util.concurrent.CopyOnWriteArrayList>\n    </entry>\n  </domainCredentialsMap>\n</com.cloudbees.plugins.credentials.SystemCredentialsProvider>\n")
pos("jenkins", "b/credentials.xml",
    f"<list>\n  <org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>\n    <id>slack</id>\n    <secret>{{{base64.b64encode(R.randbytes(40)).decode()}}}</secret>\n  </org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>\n</list>\n")
neg("jenkins", "a/credentials.xml",
    "<?xml version='1.1' encoding='UTF-8'?>\n<com.cloudbees.plugins.credentials.SystemCredentialsProvider>\n  <domainCredentialsMap class=\"hudson.util.CopyOnWriteMap$Hash\"/>\n</com.cloudbees.plugins.credentials.SystemCredentialsProvider>\n")

def ff_login(i):
    return (f'{{"id":{i},"hostname":"https://intranet{i}.example.com","httpRealm":null,"formSubmitURL":"https://intranet{i}.example.com",'
            f'"usernameField":"user","passwordField":"pass","encryptedUsername":"{base64.b64encode(R.randbytes(60)).decode()}",'
            f'"encryptedPassword":"{base64.b64encode(R.randbytes(60)).decode()}","guid":"{{{s(HEX, 8)}-{s(HEX, 4)}-{s(HEX, 4)}-{s(HEX, 4)}-{s(HEX, 12)}}}","encType":1}}')
pos("firefox", "a/.mozilla/firefox/abcd1234.default-release/logins.json",
    f'{{"nextId":3,"logins":[{ff_login(1)},{ff_login(2)}],"potentiallyVulnerablePasswords":[],"version":3}}')
pos("firefox", "b/logins.json", f'{{"nextId":2,"logins":[{ff_login(1)}],"version":3}}')
neg("firefox", "a/logins.json", '{"nextId":1,"logins":[],"potentiallyVulnerablePasswords":[],"dismissedBreachAlertsByLoginGUID":{},"version":3}')

pos("cli-tokens", "a/.config/gh/hosts.yml",
    f"github.com:\n    users:\n        octo:\n            oauth_token: gho_{s(AN, 36)}\n    git_protocol: https\n    user: octo\n    oauth_token: {s(AN, 40)}\n")
pos("cli-tokens", "b/.config/hub", f"github.com:\n- user: octo\n  oauth_token: {s(HEX, 40)}\n  protocol: https\n")
pos("cli-tokens", "c/.tugboat", f"---\nauthentication:\n  api_key: {s(HEX, 64)}\nssh:\n  ssh_user: root\n")
pos("cli-tokens", "d/.config/gcloud/application_default_credentials.json",
    f'{{\n  "client_id": "{s(string.digits, 12)}-{s(string.ascii_lowercase + string.digits, 32)}.apps.googleusercontent.com",\n  "client_secret": "{s(AN, 24)}",\n  "refresh_token": "1//{s(AN + "-_", 100)}",\n  "type": "authorized_user"\n}}\n')
neg("cli-tokens", "a/.config/gh/hosts.yml", "github.com:\n    git_protocol: ssh\n    user: octo\n")

pos("winscp", "a/WinSCP.ini",
    f"[Sessions\\deploy@example.com]\nHostName=example.com\nUserName=deploy\nPassword={s('0123456789ABCDEF', 48)}\n")
pos("winscp", "b/WinSCP.ini", f"[Sessions\\ftp]\nHostName=ftp.example.org\nFSProtocol=5\nPassword={s('0123456789ABCDEF', 64)}\n")
neg("winscp", "a/WinSCP.ini", "[Sessions\\ftp]\nHostName=ftp.example.org\nUserName=anonymous\n")

pos("mycnf", "c/.mylogin.cnf", b"\x00\x00\x00\x00" + R.randbytes(20) + R.randbytes(64), binary=True)

# --- class 2: framework and application configs --------------------------------------
dj = s(string.ascii_lowercase + string.digits + "!@#%^&*(-_=+)", 50)
pos("django", "a/mysite/settings.py",
    f"from pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent.parent\n\n# SECURITY WARNING: keep the secret key used in production secret!\nSECRET_KEY = '{dj}'\n\nDEBUG = False\n")
pos("django", "b/config/settings/production.py",
    f'from .base import *  # noqa\n\nSECRET_KEY = "{s(AN, 50)}"\nALLOWED_HOSTS = ["example.com"]\n')
neg("django", "a/mysite/settings.py", 'import os\n\nSECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\nDEBUG = False\n')

pos("rails", "a/config/master.key", s(HEX, 32))
pos("rails", "b/config/credentials/production.key", s(HEX, 32) + "\n")
pos("rails", "c/config/secrets.yml",
    f"development:\n  secret_key_base: {s(HEX, 128)}\n\ntest:\n  secret_key_base: {s(HEX, 128)}\n\nproduction:\n  secret_key_base: <%= ENV[\"SECRET_KEY_BASE\"] %>\n")
pos("rails", "d/config/secrets.yml", f"production:\n  secret_key_base: {s(HEX, 128)}\n  stripe_secret: {s(AN, 32)}\n")
neg("rails", "a/config/secrets.yml", 'production:\n  secret_key_base: <%= ENV["SECRET_KEY_BASE"] %>\n')

pos("mongoid", "a/config/mongoid.yml",
    f"production:\n  clients:\n    default:\n      database: app\n      hosts:\n        - mongo1.internal:27017\n      options:\n        user: app\n        password: {pw()}\n        auth_source: admin\n")
pos("mongoid", "b/config/database.yml",
    f"default: &default\n  adapter: postgresql\n  encoding: unicode\n  pool: 5\n\nproduction:\n  <<: *default\n  database: app_production\n  username: app\n  password: '{pw()}'\n")
neg("mongoid", "a/config/mongoid.yml",
    "production:\n  clients:\n    default:\n      database: app\n      options:\n        user: <%= ENV['MONGO_USER'] %>\n        password: <%= ENV['MONGO_PASSWORD'] %>\n")

WP_KEYS = ["AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"]
wp_salt_cs = AN + "!#%&()*+,-./:;<=>?@[]^_`{|}~ "
def wp(db_pw, keys):
    lines = ["<?php", "define( 'DB_NAME', 'wordpress' );", "define( 'DB_USER', 'wp' );",
             f"define( 'DB_PASSWORD', '{db_pw}' );", "define( 'DB_HOST', 'localhost' );", ""]
    lines += [f"define( '{k}', '{v}' );" for k, v in zip(WP_KEYS, keys)]
    lines += ["", "$table_prefix = 'wp_';", "require_once ABSPATH . 'wp-settings.php';", ""]
    return "\n".join(lines)
pos("wordpress", "a/var/www/html/wp-config.php", wp(pw(), [s(wp_salt_cs, 64) for _ in WP_KEYS]))
pos("wordpress", "b/wp-config.php", wp("password_here", [s(wp_salt_cs, 64) for _ in WP_KEYS]))
neg("wordpress", "a/wp-config-sample.php", wp("password_here", ["put your unique phrase here"] * 8))

pos("php", "a/config.php",
    f"<?php\nreturn [\n    'db' => [\n        'host' => 'localhost',\n        'username' => 'shop',\n        'password' => '{pw()}',\n        'dbname' => 'shop',\n    ],\n];\n")
pos("php", "b/application/config/database.php",
    f"<?php\n$db['default']['hostname'] = 'localhost';\n$db['default']['username'] = 'ci';\n$db['default']['password'] = '{pw()}';\n$db['default']['database'] = 'ci';\n")
pos("php", "c/LocalSettings.php", f'<?php\n$wgDBserver = "localhost";\n$wgDBname = "wiki";\n$wgDBuser = "wiki";\n$wgDBpassword = "{pw()}";\n')
neg("php", "a/config/database.php",
    "<?php\nreturn [\n    'mysql' => [\n        'host' => env('DB_HOST', '127.0.0.1'),\n        'username' => env('DB_USERNAME', 'forge'),\n        'password' => env('DB_PASSWORD', ''),\n    ],\n];\n")
neg("php", "b/lang/en/auth.php",
    "<?php\nreturn [\n    'failed' => 'These credentials do not match our records.',\n    'password' => 'The provided password is incorrect.',\n];\n")

pos("salesforce", "a/index.js",
    f"const jsforce = require('jsforce');\nconst conn = new jsforce.Connection({{ loginUrl: 'https://login.salesforce.com' }});\nconn.login('ops@example.com', '{pw()}{s(AN, 24)}', (err, res) => {{\n  if (err) return console.error(err);\n}});\n")
pos("salesforce", "b/src/sf.ts",
    f"import * as jsforce from 'jsforce';\n\nexport async function connect() {{\n  const conn = new jsforce.Connection({{}});\n  await conn.login(\"integration@example.com\", \"{pw()}\" + \"{s(AN, 25)}\");\n  return conn;\n}}\n")
neg("salesforce", "a/index.js",
    "const jsforce = require('jsforce');\nconst conn = new jsforce.Connection({});\nconn.login(process.env.SF_USER, process.env.SF_PASSWORD + process.env.SF_TOKEN);\n")

pos("dotnet", "a/Web.config",
    f'<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <connectionStrings>\n    <add name="Default" connectionString="Data Source=sql01;Initial Catalog=Shop;User ID=shop;Password={pw()};" providerName="System.Data.SqlClient" />\n  </connectionStrings>\n</configuration>\n')
pos("dotnet", "b/App.config",
    f'<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <appSettings>\n    <add key="SmtpPassword" value="{pw()}" />\n  </appSettings>\n  <connectionStrings>\n    <add name="Db" connectionString="Server=db;Database=app;Uid=app;Pwd={pw()};" />\n  </connectionStrings>\n</configuration>\n')
pos("dotnet", "c/appsettings.json",
    f'{{\n  "ConnectionStrings": {{\n    "DefaultConnection": "Server=tcp:db.example.net,1433;Database=app;User Id=app;Password={pw()};Encrypt=True"\n  }},\n  "Logging": {{ "LogLevel": {{ "Default": "Information" }} }}\n}}\n')
pos("dotnet", "d/appsettings.Production.json",
    f'{{\n  "Smtp": {{\n    "Host": "smtp.example.com",\n    "User": "noreply",\n    "Password": "{pw()}"\n  }}\n}}\n')
neg("dotnet", "a/Web.config",
    '<?xml version="1.0"?>\n<configuration>\n  <connectionStrings>\n    <add name="Default" connectionString="Data Source=.;Initial Catalog=Shop;Integrated Security=True" />\n  </connectionStrings>\n</configuration>\n')
neg("dotnet", "b/appsettings.json",
    '{\n  "ConnectionStrings": {\n    "DefaultConnection": "Server=(localdb)\\\\mssqllocaldb;Database=app;Trusted_Connection=True"\n  }\n}\n')

pos("gradle", "a/gradle.properties",
    f"org.gradle.jvmargs=-Xmx2g\nsigning.keyId={s(HEX, 8).upper()}\nsigning.password={pw()}\nsigning.secretKeyRingFile=/home/ci/.gnupg/secring.gpg\nossrhUsername=ci\nossrhPassword={pw()}\n")
pos("gradle", "b/gradle.properties", f"artifactoryUser=deployer\nartifactoryToken={s(AN, 64)}\n")
neg("gradle", "a/gradle.properties", "org.gradle.jvmargs=-Xmx2g\norg.gradle.parallel=true\nsigning.secretKeyRingFile=/home/ci/.gnupg/secring.gpg\nossrhPassword=\n")

pos("maven", "a/.m2/settings.xml",
    f'<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">\n  <servers>\n    <server>\n      <id>releases</id>\n      <username>deployer</username>\n      <password>{pw()}</password>\n    </server>\n  </servers>\n</settings>\n')
pos("maven", "b/settings.xml",
    f'<settings>\n  <servers>\n    <server>\n      <id>snapshots</id>\n      <username>ci</username>\n      <password>{pw()}</password>\n    </server>\n  </servers>\n</settings>\n')
pos("maven", "c/settings.xml",
    f'<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n      <username>ci</username>\n      <password>{{{base64.b64encode(R.randbytes(30)).decode()}}}</password>\n    </server>\n  </servers>\n</settings>\n')
neg("maven", "a/.m2/settings.xml",
    '<settings>\n  <servers>\n    <server>\n      <id>releases</id>\n      <username>${env.MAVEN_USER}</username>\n      <password>${env.MAVEN_PASSWORD}</password>\n    </server>\n  </servers>\n</settings>\n')

pos("spring", "a/src/main/resources/application.properties",
    f"spring.datasource.url=jdbc:mysql://db:3306/app\nspring.datasource.username=app\nspring.datasource.password={pw()}\n")
pos("spring", "b/application.yml",
    f"spring:\n  datasource:\n    url: jdbc:postgresql://db:5432/app\n    username: app\n    password: {pw()}\n  mail:\n    host: smtp.example.com\n")
pos("spring", "c/application-prod.yml", f"jwt:\n  secret: {s(AN, 48)}\n  expiration: 86400\n")
neg("spring", "a/application.properties",
    "spring.datasource.url=jdbc:mysql://db:3306/app\nspring.datasource.username=${DB_USER}\nspring.datasource.password=${DB_PASSWORD}\n")

# --- class 4: password hashes ---------------------------------------------------------
pos("hashes", "a/db/dump.sql",
    "-- MySQL dump 10.13\nCREATE TABLE `users` (`id` int, `email` varchar(255), `password` varchar(255));\n"
    f"INSERT INTO `users` VALUES (1,'admin@example.com','{bcrypt()}'),(2,'ops@example.com','{bcrypt('2b')}');\n")
pos("hashes", "b/backup/mysql-users.sql",
    f"INSERT INTO `user` VALUES ('localhost','root','*{s('0123456789ABCDEF', 40)}','Y','Y');\n"
    f"CREATE USER 'app'@'%' IDENTIFIED WITH mysql_native_password AS '*{s('0123456789ABCDEF', 40)}';\n")
cisco7 = "0" + str(R.randint(0, 9)) + s("0123456789ABCDEF", 16)
pos("hashes", "c/router-confg",
    f"hostname edge1\n!\nenable secret 5 {md5crypt()}\n!\nusername admin privilege 15 secret 9 $9${s(CRYPT, 14)}${s(CRYPT, 43)}\nusername ops secret 8 $8${s(CRYPT, 14)}${s(CRYPT, 43)}\n!\nline vty 0 4\n password 7 {cisco7}\n login\n")
pos("hashes", "d/loot/asrep.txt",
    f"$krb5asrep$23$svc_backup@CORP.EXAMPLE:{s(HEX, 32)}${s(HEX, 300)}\n")
pos("hashes", "e/loot/tgs.txt",
    f"$krb5tgs$23$*sqlsvc$CORP.EXAMPLE$MSSQLSvc/sql01.corp.example:1433*${s(HEX, 32)}${s(HEX, 400)}\n")
pos("hashes", "f/loot/pwdump.txt",
    f"Administrator:500:aad3b435b51404eeaad3b435b51404ee:{s(HEX, 32)}:::\nGuest:501:aad3b435b51404eeaad3b435b51404ee:31d6cfe0d16ae931b73c59d7e0c089c0:::\n")
pos("hashes", "g/provision/users.yml",
    f"users:\n  - name: deploy\n    password: \"{sha512crypt()}\"\n    groups: [sudo]\n")
pos("hashes", "h/ldap/seed.ldif",
    f"dn: uid=jdoe,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: jdoe\nuserPassword: {{SSHA}}{base64.b64encode(R.randbytes(24)).decode()}\n")
neg("hashes", "a/yarn.lock",
    f'"left-pad@^1.3.0":\n  version "1.3.0"\n  resolved "https://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz#{s(HEX, 40)}"\n  integrity sha512-{base64.b64encode(R.randbytes(64)).decode()}\n')
neg("hashes", "b/scripts/run.sh",
    '#!/bin/sh\nset -e\necho "$1$2" >> "$6$HOME"\nawk \'{print $1$5$6}\' /etc/passwd\n')
neg("hashes", "c/router-confg",
    "hostname edge1\nenable secret 5 <removed>\nusername admin secret 9 <removed>\nline vty 0 4\n password 7 <removed>\n")
neg("hashes", "d/netstat.txt", "tcp6  0  0 :::22   :::*   LISTEN\ntcp6  0  0 :::80   :::*   LISTEN\n")
neg("hashes", "e/db/schema.sql",
    "CREATE TABLE users (id int, password_hash varchar(60));\nINSERT INTO users VALUES (1, NULL);\n")
