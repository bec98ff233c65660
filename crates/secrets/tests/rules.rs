//! Table-driven tests of the built-in rules: every rule has at least one
//! true-positive and one false-positive sample; the positives also drive the
//! redaction test (no finding may carry the secret).

mod common;

use std::collections::HashSet;

use bulwark_secrets::{builtin_rules, fingerprint, Scanner, SecretMatch};
use common::*;

/// A true positive: the text to scan and the secret it contains.
type Pos = (String, String);
/// Builds a rule's positive and negative samples from a seeded generator.
type Samples<'a> = dyn Fn(&mut Gen) -> (Vec<Pos>, Vec<String>) + 'a;

struct Case {
    id: &'static str,
    pos: Vec<Pos>,
    neg: Vec<String>,
}

fn p(template: &str, secret: String) -> Pos {
    (template.replace("{S}", &secret), secret)
}

fn pem(label: &str, body: &str) -> String {
    format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut c = |id: &'static str, f: &Samples<'_>| {
        let mut g = Gen::new(id);
        let (pos, neg) = f(&mut g);
        out.push(Case { id, pos, neg });
    };
    // ---- private keys
    for (id, label) in [
        ("private-key-rsa", "RSA PRIVATE KEY"),
        ("private-key-dsa", "DSA PRIVATE KEY"),
        ("private-key-ec", "EC PRIVATE KEY"),
        ("private-key-openssh", "OPENSSH PRIVATE KEY"),
        ("private-key-pkcs8", "PRIVATE KEY"),
        ("private-key-pkcs8-encrypted", "ENCRYPTED PRIVATE KEY"),
    ] {
        c(id, &|g| {
            let body = g.pem_body(5, "\n");
            let json_body = g.pem_body(3, "\\n");
            let tmpl = pem(label, "{S}");
            let json = format!(
                "{{\"key\": \"-----BEGIN {label}-----\\n{{S}}\\n-----END {label}-----\\n\"}}"
            );
            (
                vec![p(&tmpl, body), p(&json, json_body)],
                vec![
                    pem(label, "..."),
                    pem(label, "<your key here>"),
                    format!("grep -q 'BEGIN {label}' \"$file\""),
                    format!(
                        "-----BEGIN {label}-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{}\n\n{}\n-----END {label}-----\n",
                        g.hx(32).to_uppercase(),
                        g.pem_body(5, "\n")
                    ),
                ],
            )
        });
    }
    c("private-key-pgp", &|g| {
        let t = "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\nComment: test key\n\n{S}\n-----END PGP PRIVATE KEY BLOCK-----\n";
        let pubkey = format!(
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{}\n-----END PGP PUBLIC KEY BLOCK-----\n",
            g.pem_body(4, "\n")
        );
        (vec![p(t, g.pem_body(6, "\n"))], vec![pubkey])
    });
    c("private-key-pem-encrypted", &|g| {
        let t = format!(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{}\n\n{{S}}\n-----END RSA PRIVATE KEY-----\n",
            g.hx(32).to_uppercase()
        );
        (
            vec![p(&t, g.pem_body(6, "\n"))],
            vec!["openssl writes Proc-Type: 4,ENCRYPTED for encrypted keys".into()],
        )
    });
    c("private-key-putty", &|g| {
        let t = format!(
            "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: rsa-key-20240101\nPublic-Lines: 2\n{}\n{}\nPrivate-Lines: 3\n{{S}}\nPrivate-MAC: {}\n",
            g.b64(64),
            g.b64(40),
            g.hx(40)
        );
        (
            vec![p(&t, g.pem_body(2, "\n"))],
            vec!["PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\n".into()],
        )
    });
    c("age-secret-key", &|g| {
        (
            vec![p(
                "# created: 2024-01-01T00:00:00Z\n# public key: age1qqq\n{S}\n",
                format!("AGE-SECRET-KEY-1{}", g.s(BECH, 58)),
            )],
            vec!["AGE-SECRET-KEY-1QQQQ is the prefix of an identity".into()],
        )
    });
    c("kubeconfig-client-key", &|g| {
        (
            vec![p(
                "users:\n- name: admin\n  user:\n    client-certificate-data: AAAA\n    client-key-data: {S}\n",
                format!("{}==", g.b64(200)),
            )],
            vec!["    client-key-data: <base64 encoded key>\n".into()],
        )
    });
    // ---- AWS
    c("aws-access-key-id", &|g| {
        (
            vec![
                p("aws_access_key_id = {S}\n", format!("AKIA{}", g.s(B32, 16))),
                p(
                    "export AWS_ACCESS_KEY_ID=\"{S}\"",
                    format!("ASIA{}", g.s(B32, 16)),
                ),
            ],
            vec![
                "aws_access_key_id = AKIAIOSFODNN7EXAMPLE".into(),
                "AKIA1234".into(),
                "ASIAPACIFICREGIONSX".into(),
            ],
        )
    });
    c("aws-secret-access-key", &|g| {
        let s: String = g.b64(40);
        (
            vec![
                p("aws_secret_access_key = {S}\n", s.clone()),
                p("{\"SecretAccessKey\": \"{S}\"}", g.b64(40)),
                p("AWS_SECRET_KEY={S}\n", g.b64(40)),
            ],
            vec![
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
                format!("aws_secret_access_key = {}", "ab".repeat(20)),
                format!("secret = {s}"),
            ],
        )
    });
    c("aws-session-token", &|g| {
        (
            vec![p("aws_session_token = {S}\n", g.b64(300))],
            vec!["aws_session_token = ${AWS_SESSION_TOKEN}".into()],
        )
    });
    c("aws-mws-key", &|g| {
        (
            vec![p("MWS_AUTH_TOKEN={S}", format!("amzn.mws.{}", g.uuid()))],
            vec!["amzn.mws.1234".into()],
        )
    });
    // ---- Google
    c("gcp-service-account-key", &|g| {
        let key = format!(
            "-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----",
            g.pem_body(8, "\\n")
        );
        let t = format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"{{S}}\\n\",\n  \"client_email\": \"svc@demo.iam.gserviceaccount.com\"\n}}\n",
            g.hx(40)
        );
        (
            vec![p(&t, key)],
            vec![
                "{\"type\": \"authorized_user\", \"client_id\": \"x\", \"refresh_token\": \"y\"}"
                    .into(),
                "{\"type\": \"service_account\", \"project_id\": \"demo\", \"private_key\": \"\"}"
                    .into(),
            ],
        )
    });
    c("gcp-api-key", &|g| {
        (
            vec![p("GOOGLE_API_KEY={S}\n", format!("AIza{}", g.s(AN, 35)))],
            vec!["AIzaSyShort".into()],
        )
    });
    c("gcp-oauth-client-secret", &|g| {
        (
            vec![p("client_secret: {S}\n", format!("GOCSPX-{}", g.an(28)))],
            vec!["GOCSPX-short".into()],
        )
    });
    c("google-oauth-access-token", &|g| {
        (
            vec![p("token = {S}\n", format!("ya29.{}", g.s(URL, 80)))],
            vec!["ya29.short".into()],
        )
    });
    // ---- Azure
    c("azure-storage-account-key", &|g| {
        (
            vec![p(
                "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={S};EndpointSuffix=core.windows.net",
                format!("{}==", g.b64(86)),
            )],
            vec!["AccountKey=<key>;".into(), "AccountKey=Eby8vdM02xNOcqFl==".into()],
        )
    });
    c("azure-sas-token", &|g| {
        (
            vec![p(
                "https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2025-01-01T00:00:00Z&spr=https&sig={S}",
                format!("{}%3D", g.an(43)),
            )],
            vec!["?sv=2022-11-02&ss=b&sig=abc".into(), "sig=abcdefghijklmnopqrstuvwxyz0123456789".into()],
        )
    });
    c("azure-client-secret", &|g| {
        (
            vec![p(
                "AZURE_CLIENT_SECRET={S}\n",
                format!("{}8Q~{}", g.an(3), g.an(34)),
            )],
            vec!["value = abc8Q~short".into()],
        )
    });
    c("azure-shared-access-key", &|g| {
        (
            vec![p(
                "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={S}",
                format!("{}=", g.b64(43)),
            )],
            vec!["SharedAccessKeyName=Root;SharedAccessKey=<key>".into()],
        )
    });
    c("azure-devops-pat", &|g| {
        (
            vec![p("AZURE_DEVOPS_PAT={S}\n", g.s(LB32, 52))],
            vec!["AZURE_DEVOPS_PAT=$(System.AccessToken)".into()],
        )
    });
    // ---- GitHub / GitLab
    c("github-pat", &|g| {
        (
            vec![p("GITHUB_TOKEN={S}\n", g.checksummed("ghp"))],
            vec![
                format!("ghp_{}", g.an(20)),
                "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
                // the right shape, but the last six characters are not the CRC32
                format!("GITHUB_TOKEN=ghp_{}", g.an(36)),
            ],
        )
    });
    c("github-fine-grained-pat", &|g| {
        (
            vec![p(
                "token: {S}\n",
                format!("github_pat_{}_{}", g.an(22), g.an(59)),
            )],
            vec![format!("github_pat_{}", g.an(30))],
        )
    });
    c("github-oauth-token", &|g| {
        (
            vec![p("oauth={S}", g.checksummed("gho"))],
            vec![format!("gho_{}", g.an(10))],
        )
    });
    c("github-app-token", &|g| {
        (
            vec![
                p("GH_TOKEN={S}", g.checksummed("ghs")),
                p("{S}", g.checksummed("ghu")),
            ],
            vec![format!("ghs_{}", g.an(12))],
        )
    });
    c("github-refresh-token", &|g| {
        (
            vec![p("refresh={S}", format!("ghr_{}", g.an(76)))],
            vec![format!("ghr_{}", g.an(12))],
        )
    });
    c("gitlab-pat", &|g| {
        (
            vec![p("GITLAB_TOKEN={S}\n", format!("glpat-{}", g.s(URL, 20)))],
            vec!["glpat-short".into()],
        )
    });
    c("gitlab-runner-token", &|g| {
        (
            vec![p("token = \"{S}\"", format!("glrt-{}", g.an(20)))],
            vec!["glrt-short".into()],
        )
    });
    c("gitlab-runner-registration-token", &|g| {
        (
            vec![p(
                "registration-token {S}",
                format!("GR1348941{}", g.an(20)),
            )],
            vec!["GR1348941short".into()],
        )
    });
    c("gitlab-pipeline-trigger-token", &|g| {
        (
            vec![p("TRIGGER={S}", format!("glptt-{}", g.hx(40)))],
            vec![format!("glptt-{}", g.hx(20))],
        )
    });
    c("gitlab-deploy-token", &|g| {
        (
            vec![p("DEPLOY={S}", format!("gldt-{}", g.an(20)))],
            vec!["gldt-short".into()],
        )
    });
    c("gitlab-other-token", &|g| {
        (
            vec![
                p("FEED={S}", format!("glft-{}", g.an(20))),
                p("AGENT={S}", format!("glagent-{}", g.an(50))),
            ],
            vec!["glft-short".into()],
        )
    });
    // ---- chat / webhooks
    c("slack-token", &|g| {
        (
            vec![p(
                "SLACK_BOT_TOKEN={S}\n",
                format!("xoxb-{}-{}-{}", g.s(DIG, 11), g.s(DIG, 12), g.an(24)),
            )],
            vec!["xoxb-not-a-real-token-this-will-not-work".into()],
        )
    });
    c("slack-config-token", &|g| {
        (
            vec![p("{S}", format!("xoxe.xoxp-1-{}", g.an(140)))],
            vec!["xoxe.xoxp-1-short".into()],
        )
    });
    c("slack-app-token", &|g| {
        (
            vec![p(
                "SLACK_APP_TOKEN={S}",
                format!("xapp-1-A{}-{}-{}", g.s(UPN, 10), g.s(DIG, 13), g.hx(64)),
            )],
            vec!["xapp-1-ABC-123-abc".into()],
        )
    });
    c("slack-webhook", &|g| {
        (
            vec![p(
                "url: https://hooks.slack.com/{S}\n",
                format!("services/T{}/B{}/{}", g.s(UPN, 8), g.s(UPN, 10), g.an(24)),
            )],
            vec![
                "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
                    .into(),
                "https://hooks.slack.com/services/".into(),
            ],
        )
    });
    c("discord-webhook", &|g| {
        (
            vec![p(
                "https://discord.com/api/webhooks/{S}",
                format!("{}/{}", g.s(DIG, 18), g.s(URL, 68)),
            )],
            vec!["https://discord.com/api/webhooks/123/abc".into()],
        )
    });
    c("discord-bot-token", &|g| {
        (
            vec![p(
                "DISCORD_TOKEN={S}\n",
                format!("M{}.{}.{}", g.an(23), g.an(6), g.an(27)),
            )],
            vec![
                format!("TOKEN=M{}.{}.{}", g.an(23), g.an(6), g.an(27)),
                "discord: MTIz.abc.def".into(),
            ],
        )
    });
    c("telegram-bot-token", &|g| {
        (
            vec![p(
                "TELEGRAM_BOT_TOKEN={S}\n",
                format!("{}:AA{}", g.s(DIG, 10), g.an(33)),
            )],
            vec!["123:AAshort".into(), "12345678:AAAA".into()],
        )
    });
    c("teams-webhook", &|g| {
        let s = format!(
            "https://acme.webhook.office.com/webhookb2/{}@{}/IncomingWebhook/{}/{}",
            g.uuid(),
            g.uuid(),
            g.an(32),
            g.uuid()
        );
        (
            vec![p("webhook: {S}\n", s)],
            vec!["https://acme.webhook.office.com/webhookb2/<id>".into()],
        )
    });
    // ---- payments / commerce
    c("stripe-secret-key", &|g| {
        (
            vec![
                p("STRIPE_KEY={S}", format!("sk_live_{}", g.an(24))),
                p("{S}", format!("rk_live_{}", g.an(99))),
            ],
            vec![format!("sk_test_{}", g.an(24)), "sk_live_short".into()],
        )
    });
    c("stripe-webhook-secret", &|g| {
        (
            vec![p("WHSEC={S}", format!("whsec_{}", g.an(32)))],
            vec!["whsec_abc".into()],
        )
    });
    c("square-access-token", &|g| {
        (
            vec![
                p("SQUARE={S}", format!("sq0atp-{}", g.an(22))),
                p("SQUARE={S}", format!("EAAA{}", g.an(60))),
            ],
            vec!["sq0atp-short".into()],
        )
    });
    c("square-oauth-secret", &|g| {
        (
            vec![p("{S}", format!("sq0csp-{}", g.an(43)))],
            vec!["sq0csp-short".into()],
        )
    });
    c("braintree-access-token", &|g| {
        (
            vec![p(
                "BRAINTREE={S}",
                format!("access_token$production${}${}", g.s(LAN, 16), g.hx(32)),
            )],
            vec!["access_token$production$<merchant>$<token>".into()],
        )
    });
    c("shopify-access-token", &|g| {
        (
            vec![p("SHOPIFY={S}", format!("shpat_{}", g.hx(32)))],
            vec!["shpat_abc".into()],
        )
    });
    c("shopify-shared-secret", &|g| {
        (
            vec![p("SHOPIFY={S}", format!("shpss_{}", g.hx(32)))],
            vec!["shpss_abc".into()],
        )
    });
    c("shippo-api-token", &|g| {
        (
            vec![p("{S}", format!("shippo_live_{}", g.hx(40)))],
            vec!["shippo_live_1234".into()],
        )
    });
    // ---- messaging / email
    c("twilio-api-key", &|g| {
        (
            vec![p("TWILIO_API_KEY={S}", format!("SK{}", g.hx(32)))],
            vec![format!("SK{}", g.hx(31)), format!("SK{}", "0".repeat(32))],
        )
    });
    c("twilio-auth-token", &|g| {
        (
            vec![p("TWILIO_AUTH_TOKEN={S}\n", g.hx(32))],
            vec![
                "twilio auth_token = abc".into(),
                format!("AUTH_TOKEN={}", g.hx(32)),
            ],
        )
    });
    c("sendgrid-api-key", &|g| {
        (
            vec![p(
                "SENDGRID_API_KEY={S}",
                format!("SG.{}.{}", g.s(URL, 22), g.s(URL, 43)),
            )],
            vec!["SG.short.short".into()],
        )
    });
    c("mailgun-api-key", &|g| {
        (
            vec![p("MAILGUN_API_KEY={S}", format!("key-{}", g.s(LAN, 32)))],
            vec![
                "MAILGUN_API_KEY=key-short".into(),
                format!("key-{}", g.s(LAN, 32)),
            ],
        )
    });
    c("mailchimp-api-key", &|g| {
        (
            vec![p("MAILCHIMP={S}", format!("{}-us6", g.hx(32)))],
            vec![format!("{}-usa", g.hx(32))],
        )
    });
    c("brevo-api-key", &|g| {
        (
            vec![p("{S}", format!("xkeysib-{}-{}", g.hx(64), g.an(16)))],
            vec!["xkeysib-123".into()],
        )
    });
    // ---- registries / dev tools
    c("npm-access-token", &|g| {
        (
            vec![p("NPM_TOKEN={S}", g.checksummed("npm"))],
            vec![
                "npm_install_dir=/usr".into(),
                format!("NPM_TOKEN=npm_{}", g.an(36)),
            ],
        )
    });
    c("npmrc-auth-token", &|g| {
        (
            vec![p("//registry.npmjs.org/:_authToken={S}\n", g.uuid())],
            vec!["//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n".into()],
        )
    });
    c("npmrc-auth", &|g| {
        (
            vec![p(
                "_auth = {S}\nalways-auth=true\n",
                format!("{}==", g.b64(30)),
            )],
            vec!["_auth = ${NPM_AUTH}\n".into()],
        )
    });
    c("pypi-token", &|g| {
        (
            vec![p(
                "password = {S}",
                format!("pypi-AgEIcHlwaS5vcmc{}", g.s(URL, 120)),
            )],
            vec!["pypi-AgEIcHlwaS5vcmcshort".into()],
        )
    });
    c("pypirc-password", &|g| {
        (
            vec![p(
                "[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = alice\npassword = {S}\n",
                format!("{}!#", g.an(16)),
            )],
            vec!["[pypi]\nusername = __token__\npassword = <your token>\n".into()],
        )
    });
    c("rubygems-api-key", &|g| {
        (
            vec![p("{S}", format!("rubygems_{}", g.hx(48)))],
            vec!["rubygems_abc".into()],
        )
    });
    c("clojars-token", &|g| {
        (
            vec![p("{S}", format!("CLOJARS_{}", g.s(LAN, 60)))],
            vec!["CLOJARS_abc".into()],
        )
    });
    c("nuget-api-key", &|g| {
        (
            vec![p("nuget push -k {S}", format!("oy2{}", g.s(LAN, 43)))],
            vec!["oy2abc".into()],
        )
    });
    c("dockerhub-pat", &|g| {
        (
            vec![p("DOCKER_PAT={S}", format!("dckr_pat_{}", g.an(27)))],
            vec!["dckr_pat_short".into()],
        )
    });
    c("docker-config-auth", &|g| {
        (
            vec![p(
                "{\"auths\": {\"registry.example.org\": {\"auth\": \"{S}\"}}}",
                format!("{}==", g.b64(30)),
            )],
            vec!["{\"auths\": {\"r\": {\"auth\": \"\"}}}".into()],
        )
    });
    c("artifactory-api-key", &|g| {
        (
            vec![p("{S}", format!("AKCp{}", g.an(69)))],
            vec!["AKCp123".into()],
        )
    });
    c("postman-api-key", &|g| {
        (
            vec![p("{S}", format!("PMAK-{}-{}", g.hx(24), g.hx(34)))],
            vec!["PMAK-abc".into()],
        )
    });
    c("buildkite-token", &|g| {
        (
            vec![p("{S}", format!("bkua_{}", g.hx(40)))],
            vec!["bkua_abc".into()],
        )
    });
    c("linear-api-key", &|g| {
        (
            vec![p("{S}", format!("lin_api_{}", g.an(40)))],
            vec!["lin_api_abc".into()],
        )
    });
    c("notion-integration-token", &|g| {
        (
            vec![
                p("NOTION={S}", format!("ntn_{}{}", g.s(DIG, 11), g.an(35))),
                p("NOTION={S}", format!("secret_{}", g.an(43))),
            ],
            vec!["secret_key_base".into()],
        )
    });
    c("atlassian-api-token", &|g| {
        (
            vec![p("JIRA={S}", format!("ATATT3{}", g.an(186)))],
            vec!["ATATT3abc".into()],
        )
    });
    c("sentry-dsn", &|g| {
        (
            vec![p(
                "SENTRY_DSN=https://{S}@o123456.ingest.sentry.io/4505",
                g.hx(32),
            )],
            vec!["SENTRY_DSN=https://public@sentry.example.com/1".into()],
        )
    });
    c("sentry-org-token", &|g| {
        (
            vec![p("{S}", format!("sntrys_eyJ{}", g.an(120)))],
            vec!["sntrys_abc".into()],
        )
    });
    c("sentry-user-token", &|g| {
        (
            vec![p("{S}", format!("sntryu_{}", g.hx(64)))],
            vec!["sntryu_abc".into()],
        )
    });
    c("pulumi-access-token", &|g| {
        (
            vec![p("PULUMI={S}", format!("pul-{}", g.hx(40)))],
            vec!["pul-abc".into()],
        )
    });
    c("terraform-cloud-token", &|g| {
        (
            vec![p(
                "token = \"{S}\"",
                format!("{}.atlasv1.{}", g.an(14), g.an(67)),
            )],
            vec!["x.atlasv1.y".into()],
        )
    });
    c("vault-service-token", &|g| {
        (
            vec![p("VAULT_TOKEN={S}", format!("hvs.{}", g.an(90)))],
            vec!["hvs.short".into()],
        )
    });
    c("vault-batch-token", &|g| {
        (
            vec![p("VAULT_TOKEN={S}", format!("hvb.{}", g.an(90)))],
            vec!["hvb.short".into()],
        )
    });
    c("doppler-token", &|g| {
        (
            vec![p("DOPPLER={S}", format!("dp.pt.{}", g.an(43)))],
            vec!["dp.pt.abc".into()],
        )
    });
    c("onepassword-service-account-token", &|g| {
        (
            vec![p("OP={S}", format!("ops_eyJ{}", g.an(300)))],
            vec!["ops_eyJabc".into()],
        )
    });
    c("tailscale-key", &|g| {
        (
            vec![p(
                "TS_AUTHKEY={S}",
                format!("tskey-auth-{}-{}", g.an(12), g.an(30)),
            )],
            vec!["tskey-auth-XXXX".into()],
        )
    });
    // ---- cloud / infra / SaaS
    c("digitalocean-pat", &|g| {
        (
            vec![p("DO={S}", format!("dop_v1_{}", g.hx(64)))],
            vec!["dop_v1_abc".into()],
        )
    });
    c("digitalocean-oauth-token", &|g| {
        (
            vec![p("DO={S}", format!("doo_v1_{}", g.hx(64)))],
            vec!["doo_v1_abc".into()],
        )
    });
    c("heroku-api-key-v2", &|g| {
        (
            vec![p("HEROKU={S}", format!("HRKU-AA{}", g.an(58)))],
            vec!["HRKU-AAshort".into()],
        )
    });
    c("heroku-api-key", &|g| {
        (
            vec![p("HEROKU_API_KEY={S}", g.uuid())],
            vec![format!("request_id={}", g.uuid())],
        )
    });
    c("datadog-api-key", &|g| {
        (
            vec![p("DD_API_KEY={S}", g.hx(32))],
            vec!["DD_API_KEY=<api key>".into()],
        )
    });
    c("datadog-app-key", &|g| {
        (
            vec![p("DD_APP_KEY={S}", g.hx(40))],
            vec!["DD_APP_KEY=<app key>".into()],
        )
    });
    c("newrelic-user-api-key", &|g| {
        (
            vec![p("{S}", format!("NRAK-{}", g.s(UPN, 27)))],
            vec!["NRAK-ABC".into()],
        )
    });
    c("newrelic-insert-key", &|g| {
        (
            vec![p("{S}", format!("NRII-{}", g.an(32)))],
            vec!["NRII-abc".into()],
        )
    });
    c("newrelic-license-key", &|g| {
        (
            vec![p("license_key: {S}", format!("{}NRAL", g.hx(36)))],
            vec!["abcNRAL".into()],
        )
    });
    c("newrelic-browser-key", &|g| {
        (
            vec![p("{S}", format!("NRJS-{}", g.hx(19)))],
            vec!["NRJS-abc".into()],
        )
    });
    c("okta-api-token", &|g| {
        (
            vec![p("OKTA_API_TOKEN={S}", format!("00{}", g.an(40)))],
            vec!["OKTA_API_TOKEN=00abc".into()],
        )
    });
    c("alibaba-access-key-id", &|g| {
        (
            vec![p("{S}", format!("LTAI{}", g.an(20)))],
            vec!["LTAI123".into()],
        )
    });
    c("alibaba-secret-key", &|g| {
        (
            vec![p("ALIBABA_CLOUD_ACCESS_KEY_SECRET={S}", g.an(30))],
            vec!["ALIBABA_CLOUD_ACCESS_KEY_SECRET=<secret>".into()],
        )
    });
    c("tencent-secret-id", &|g| {
        (
            vec![p("{S}", format!("AKID{}", g.an(32)))],
            vec!["AKID123".into()],
        )
    });
    c("tencent-secret-key", &|g| {
        (
            vec![p("TENCENTCLOUD_SECRET_KEY={S}", g.an(32))],
            vec!["TENCENTCLOUD_SECRET_KEY=<key>".into()],
        )
    });
    c("databricks-token", &|g| {
        (
            vec![p("{S}", format!("dapi{}", g.hx(32)))],
            vec!["dapi123".into()],
        )
    });
    c("dynatrace-token", &|g| {
        (
            vec![p(
                "{S}",
                format!("dt0c01.{}.{}", g.s(UPN, 24), g.s(UPN, 64)),
            )],
            vec!["dt0c01.ABC.DEF".into()],
        )
    });
    c("cloudflare-origin-ca-key", &|g| {
        (
            vec![p("{S}", format!("v1.0-{}-{}", g.hx(24), g.hx(146)))],
            vec!["v1.0-abc-def".into()],
        )
    });
    c("supabase-token", &|g| {
        (
            vec![p("{S}", format!("sbp_{}", g.hx(40)))],
            vec!["sbp_abc".into()],
        )
    });
    c("planetscale-token", &|g| {
        (
            vec![p("{S}", format!("pscale_tkn_{}", g.an(43)))],
            vec!["pscale_tkn_abc".into()],
        )
    });
    c("flyio-token", &|g| {
        (
            vec![p("FLY={S}", format!("fo1_{}", g.an(43)))],
            vec!["fo1_abc".into()],
        )
    });
    c("algolia-admin-key", &|g| {
        (
            vec![p("ALGOLIA_ADMIN_KEY={S}", g.hx(32))],
            vec![
                "ALGOLIA_ADMIN_KEY=<key>".into(),
                format!("md5 {}", g.hx(32)),
            ],
        )
    });
    c("firebase-cloud-messaging-key", &|g| {
        (
            vec![p("{S}", format!("AAAA{}:APA91b{}", g.an(7), g.an(134)))],
            vec!["AAAA:APA91bshort".into()],
        )
    });
    c("dropbox-access-token", &|g| {
        (
            vec![p("DROPBOX={S}", format!("sl.{}", g.an(140)))],
            vec!["sl.short".into()],
        )
    });
    c("mapbox-secret-token", &|g| {
        (
            vec![p("MAPBOX={S}", format!("sk.eyJ{}.{}", g.an(60), g.an(22)))],
            vec!["sk.eyJabc.def".into()],
        )
    });
    // ---- AI
    c("openai-api-key", &|g| {
        (
            vec![p(
                "OPENAI_API_KEY={S}",
                format!("sk-{}T3BlbkFJ{}", g.an(20), g.an(20)),
            )],
            vec!["sk-T3BlbkFJ".into()],
        )
    });
    c("openai-project-key", &|g| {
        (
            vec![p("OPENAI_API_KEY={S}", format!("sk-proj-{}", g.an(120)))],
            vec!["sk-proj-abc".into()],
        )
    });
    c("openai-service-account-key", &|g| {
        (
            vec![p("{S}", format!("sk-svcacct-{}", g.an(120)))],
            vec!["sk-svcacct-abc".into()],
        )
    });
    c("anthropic-api-key", &|g| {
        (
            vec![p(
                "ANTHROPIC_API_KEY={S}",
                format!("sk-ant-api03-{}AA", g.an(93)),
            )],
            vec!["sk-ant-api03-abc".into()],
        )
    });
    c("huggingface-token", &|g| {
        (
            vec![p("HF_TOKEN={S}", format!("hf_{}", g.s(ALPHA, 34)))],
            vec!["hf_abc".into()],
        )
    });
    c("huggingface-org-token", &|g| {
        (
            vec![p("{S}", format!("api_org_{}", g.s(ALPHA, 34)))],
            vec!["api_org_abc".into()],
        )
    });
    c("grafana-cloud-token", &|g| {
        (
            vec![p("{S}", format!("glc_{}==", g.an(100)))],
            vec!["glc_abc".into()],
        )
    });
    c("grafana-service-account-token", &|g| {
        (
            vec![p("{S}", format!("glsa_{}_{}", g.an(32), g.hx(8)))],
            vec!["glsa_abc_def".into()],
        )
    });
    // ---- JWT, URLs, generic
    c("jwt", &|g| {
        (
            vec![p(
                "Cookie: session={S}\n",
                format!("eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}", g.s(URL, 40), g.s(URL, 43)),
            )],
            vec!["eyJhbGciOiJIUzI1NiJ9".into()],
        )
    });
    c("postgres-url-password", &|g| {
        (
            vec![p("DATABASE_URL=postgres://app:{S}@db:5432/app\n", g.an(16))],
            vec![
                "postgres://user:password@localhost/db".into(),
                "postgresql://app:${DB_PASSWORD}@db/app".into(),
                "postgresql://scott:tiger@localhost/test".into(),
            ],
        )
    });
    c("mysql-url-password", &|g| {
        (
            vec![p("mysql+pymysql://app:{S}@db/app", g.an(16))],
            vec!["mysql://user:pass@host/db".into()],
        )
    });
    c("mongodb-url-password", &|g| {
        (
            vec![p(
                "MONGO=mongodb+srv://app:{S}@cluster0.abcd.mongodb.net/",
                g.an(16),
            )],
            vec!["mongodb://<username>:<password>@host".into()],
        )
    });
    c("redis-url-password", &|g| {
        (
            vec![p("REDIS_URL=redis://:{S}@cache:6379/0", g.an(16))],
            vec!["redis://localhost:6379/0".into()],
        )
    });
    c("amqp-url-password", &|g| {
        (
            vec![p("BROKER=amqp://svc:{S}@rabbit:5672/", g.an(16))],
            vec!["amqp://guest:guest@localhost:5672/".into()],
        )
    });
    c("url-credentials", &|g| {
        (
            vec![p("https://alice:{S}@github.com\n", g.an(20))],
            vec![
                "http://user:password@proxy.example:3128".into(),
                "https://www.debian.org/doc/".into(),
            ],
        )
    });
    c("authorization-bearer", &|g| {
        (
            vec![p(
                "curl -H \"Authorization: Bearer {S}\" https://api",
                g.s(URL, 40),
            )],
            vec!["curl -H \"Authorization: Bearer $TOKEN\"".into()],
        )
    });
    c("authorization-basic", &|g| {
        (
            vec![p("Authorization: Basic {S}\n", format!("{}==", g.b64(24)))],
            vec!["Authorization: Basic <credentials>".into()],
        )
    });
    c("generic-password", &|g| {
        (
            vec![
                p("DB_PASSWORD={S}\n", g.an(16)),
                p("  password: \"{S}\"\n", format!("{}!%", g.an(12))),
            ],
            vec![
                "password: changeme".into(),
                "password = get_password()".into(),
                "password: ${DB_PASSWORD}".into(),
                "password=aaaaaaaaaaaa".into(),
                "password: Optional[str] = None".into(),
                "password = self.password".into(),
            ],
        )
    });
    c("generic-secret", &|g| {
        (
            vec![p("client_secret: {S}\n", g.an(32))],
            vec![
                "client_secret: your_client_secret_here".into(),
                "secret = os.environ['SECRET']".into(),
            ],
        )
    });
    c("generic-api-key", &|g| {
        (
            vec![p("API_KEY={S}\n", g.an(32))],
            vec![
                "api_key = os.environ['API_KEY']".into(),
                "apikey: <api-key>".into(),
            ],
        )
    });
    c("generic-token", &|g| {
        (
            vec![p("auth_token: {S}\n", g.an(32))],
            vec![
                "token = tokenize(line)".into(),
                "token: null".into(),
                "TOKEN=xxxxxxxxxxxxxxxx".into(),
            ],
        )
    });
    out
}

fn has(found: &[SecretMatch], id: &str) -> bool {
    found.iter().any(|m| m.rule_id == id)
}

#[test]
fn every_builtin_rule_has_samples_and_unique_ids() {
    let rules = builtin_rules();
    assert!(rules.len() >= 80, "only {} rules", rules.len());
    let mut ids = HashSet::new();
    for r in &rules {
        assert!(ids.insert(r.id.clone()), "duplicate rule id {}", r.id);
        assert!(
            !r.title.is_empty() && !r.description.is_empty(),
            "{}: title/doc",
            r.id
        );
        assert!(!r.keywords.is_empty(), "{}: no keywords", r.id);
    }
    let cases = cases();
    let mut covered = HashSet::new();
    for c in &cases {
        assert!(ids.contains(c.id), "samples for unknown rule {}", c.id);
        assert!(covered.insert(c.id), "two sample entries for {}", c.id);
        assert!(
            !c.pos.is_empty() && !c.neg.is_empty(),
            "{}: needs both",
            c.id
        );
    }
    let missing: Vec<_> = ids
        .iter()
        .filter(|i| !covered.contains(i.as_str()))
        .collect();
    assert!(missing.is_empty(), "rules without samples: {missing:?}");
}

#[test]
fn positive_samples_are_found() {
    let s = Scanner::builtin();
    let mut failures = Vec::new();
    for c in cases() {
        for (i, (text, secret)) in c.pos.iter().enumerate() {
            let f = s.scan("app/config.txt", text.as_bytes());
            let want = fingerprint(c.id, secret);
            if !f.iter().any(|m| m.rule_id == c.id && m.fingerprint == want) {
                failures.push(format!(
                    "{} positive #{i}: found {:?}",
                    c.id,
                    f.iter().map(|m| &m.rule_id).collect::<Vec<_>>()
                ));
            }
            let t = s.scan_text("env:X", text);
            assert_eq!(f, t, "{}: scan and scan_text differ", c.id);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn negative_samples_are_not_found() {
    let s = Scanner::builtin();
    let mut failures = Vec::new();
    for c in cases() {
        for (i, text) in c.neg.iter().enumerate() {
            let f = s.scan("app/config.txt", text.as_bytes());
            if has(&f, c.id) {
                failures.push(format!("{} negative #{i} matched: {text:?}", c.id));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn findings_never_contain_the_secret() {
    let s = Scanner::builtin();
    for c in cases() {
        for (text, secret) in &c.pos {
            let probe = &secret[..secret.len().min(8).max(secret.len() / 2)];
            for m in s.scan("app/config.txt", text.as_bytes()) {
                let dbg = format!("{m:?}");
                let json = serde_json::to_string(&m).unwrap();
                for (what, hay) in [
                    ("redacted", &m.redacted),
                    ("fingerprint", &m.fingerprint),
                    ("debug", &dbg),
                    ("json", &json),
                ] {
                    assert!(
                        !hay.contains(secret.as_str()),
                        "{}: {what} contains the secret",
                        c.id
                    );
                    assert!(
                        !hay.contains(probe),
                        "{}: {what} contains half the secret",
                        c.id
                    );
                }
                assert!(m.redacted.ends_with("****"));
                assert!(m.redacted.chars().count() <= 8);
                assert!(m.fingerprint.starts_with("sha256:") && m.fingerprint.len() == 7 + 16);
            }
        }
    }
}
