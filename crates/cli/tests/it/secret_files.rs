//! Credential files recognised by their format reach the secret scanner inside an image:
//! dotfiles in home directories, `/etc/shadow` (only real hashes, not locked accounts) and
//! DBeaver's binary, encrypted credentials file.

use crate::util::*;

/// Deterministic filler for test credentials, made at run time.
fn fake(len: usize, seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./";
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

#[test]
fn credential_files_in_an_image_are_found_by_format() {
    let token = fake(24, 3);
    let netrc_pw = fake(14, 5);
    let hash = format!("$6${}${}", fake(16, 7), fake(86, 11));
    let shadow = format!(
        "root:{hash}:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\nsvc:!:19700::::::\nold:!!:19700::::::\n"
    );
    let encrypted: Vec<u8> = (0u8..96)
        .map(|i| i.wrapping_mul(37).wrapping_add(1))
        .chain([0])
        .collect();
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("etc/shadow", shadow.as_bytes())
        .file(
            "root/.git-credentials",
            format!("https://deploy:{token}@git.example.org\n").as_bytes(),
        )
        .file(
            "home/app/.netrc",
            format!("machine ftp.example.org\n  login app\n  password {netrc_pw}\n").as_bytes(),
        )
        .file(
            "home/app/.local/share/DBeaverData/workspace6/General/.dbeaver/credentials-config.json",
            &encrypted,
        )
        .finish();
    let tmp = tempfile::tempdir().unwrap();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "COPY . /")
        .write_oci(tmp.path());
    let (code, report, stderr) = scan_json(&format!("oci:{}", tmp.path().display()), &[]);
    assert_eq!(code, 0, "{stderr}");
    let mut found: Vec<(String, String, u64, String)> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["location"]["kind"] == "file")
        .map(|s| {
            (
                s["location"]["path"].as_str().unwrap().to_string(),
                s["rule_id"].as_str().unwrap().to_string(),
                s["line"].as_u64().unwrap(),
                s["confidence"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    found.sort();
    let want = |p: &str, r: &str, l: u64| (p.to_string(), r.to_string(), l, "high".to_string());
    assert_eq!(
        found,
        [
            want("/etc/shadow", "shadow-password-hash", 1),
            want(
                "/home/app/.local/share/DBeaverData/workspace6/General/.dbeaver/credentials-config.json",
                "dbeaver-credentials-file",
                1
            ),
            want("/home/app/.netrc", "netrc-password", 3),
            want("/root/.git-credentials", "git-credentials-password", 1),
        ]
    );
    let text = serde_json::to_string(&report).unwrap();
    for secret in [&token, &netrc_pw, &hash] {
        assert!(!text.contains(secret.as_str()), "the report leaks a secret");
    }
}
