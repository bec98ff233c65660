//! Deterministic generator of fake secrets for the rule samples: the samples
//! are built at test time so no token-shaped literal sits in the source.
#![allow(dead_code)]

pub const AN: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const HX: &str = "0123456789abcdef";
pub const UPN: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const B32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const LB32: &str = "abcdefghijklmnopqrstuvwxyz234567";
pub const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
pub const LAN: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
pub const ALPHA: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const DIG: &str = "0123456789";
pub const BECH: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

pub struct Gen(u64);

impl Gen {
    pub fn new(seed: &str) -> Gen {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        Gen(h | 1)
    }
    fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn s(&mut self, cs: &str, n: usize) -> String {
        let cs = cs.as_bytes();
        (0..n)
            .map(|_| cs[(self.next() % cs.len() as u64) as usize] as char)
            .collect()
    }
    pub fn an(&mut self, n: usize) -> String {
        self.s(AN, n)
    }
    pub fn hx(&mut self, n: usize) -> String {
        self.s(HX, n)
    }
    pub fn b64(&mut self, n: usize) -> String {
        self.s(B64, n)
    }
    pub fn uuid(&mut self) -> String {
        format!(
            "{}-{}-{}-{}-{}",
            self.hx(8),
            self.hx(4),
            self.hx(4),
            self.hx(4),
            self.hx(12)
        )
    }
    /// A token in GitHub's 2021 format (also npm's): `prefix_`, 30 base62 characters and
    /// their base62 CRC32.
    pub fn checksummed(&mut self, prefix: &str) -> String {
        let entropy = self.an(30);
        let sum = bulwark_secrets::validate::base62_crc32(entropy.as_bytes());
        format!("{prefix}_{entropy}{sum}")
    }
    /// `lines` lines of 64 base64 characters joined by `sep`, ending in `==`.
    pub fn pem_body(&mut self, lines: usize, sep: &str) -> String {
        let mut v: Vec<String> = (0..lines).map(|_| self.b64(64)).collect();
        v.push(format!("{}==", self.b64(30)));
        v.join(sep)
    }
}

impl Gen {
    /// `text` with each `@@KIND:N@@` replaced by N generated characters of that kind (an, hx,
    /// HX, upn, b32, lb32, b64, url, lan, alpha, dig, bech), `@@uuid@@` by a UUID and
    /// `@@crc:PREFIX@@` by a checksummed token ([`Gen::checksummed`]): rule cases and corpus
    /// files hold templates, so the source holds no token-shaped literal.
    pub fn expand(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("@@") {
            let Some(len) = rest[start + 2..].find("@@") else {
                break;
            };
            let spec = &rest[start + 2..start + 2 + len];
            out.push_str(&rest[..start]);
            out.push_str(&self.generate(spec));
            rest = &rest[start + 4 + len..];
        }
        out.push_str(rest);
        out
    }

    fn generate(&mut self, spec: &str) -> String {
        if spec == "uuid" {
            return self.uuid();
        }
        let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
        if kind == "crc" {
            return self.checksummed(arg);
        }
        let n: usize = arg
            .parse()
            .unwrap_or_else(|_| panic!("template @@{spec}@@: no length"));
        let cs = match kind {
            "an" => AN,
            "hx" => HX,
            "HX" => "0123456789ABCDEF",
            "upn" => UPN,
            "b32" => B32,
            "lb32" => LB32,
            "b64" => B64,
            "url" => URL,
            "lan" => LAN,
            "alpha" => ALPHA,
            "dig" => DIG,
            "bech" => BECH,
            other => panic!("template @@{spec}@@: unknown kind {other}"),
        };
        self.s(cs, n)
    }
}
