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
    /// `lines` lines of 64 base64 characters joined by `sep`, ending in `==`.
    pub fn pem_body(&mut self, lines: usize, sep: &str) -> String {
        let mut v: Vec<String> = (0..lines).map(|_| self.b64(64)).collect();
        v.push(format!("{}==", self.b64(30)));
        v.join(sep)
    }
}
