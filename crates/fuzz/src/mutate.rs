//! A small deterministic mutator: what damaged files and hostile authors do to a valid input.
//!
//! Each mutated input applies one to four edits to a seed: bit flips, bytes set to boundary
//! values, tokens that matter to text formats inserted, ranges deleted, truncation, a chunk
//! repeated many times (the shape that finds quadratic parsers and deep nesting), a splice with
//! another seed of the same target, a chunk copied elsewhere, and numbers swapped for extreme
//! ones (sizes, counts, offsets). The same seed value always yields the same inputs.

/// Tokens that change how text formats (JSON, YAML, TOML, XML, Dockerfile, tar names) parse.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"'",
    b"\\",
    b":",
    b",",
    b"\n",
    b"\r\n",
    b"\t",
    b"\0",
    b" ",
    b"../",
    b"/",
    b"-",
    b"=",
    b"#",
    b"&a",
    b"*a",
    b"!!",
    b"<",
    b">",
    b"<!--",
    b"]]>",
    b"${",
    b"$(",
    b"%",
    b"\xef\xbb\xbf",
    b"\xc3\xa9",
    b"\xff",
    b"\xe2\x80\xae",
    b"---\n",
    b"- ",
    b"? ",
    b"|",
    b"<<: *a",
    b"\\\n",
    b"null",
    b"true",
    b"[[package]]",
    b"@",
    b"!",
];

/// Numbers at the edges of the integer types parsers convert to.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "1e999",
    "-0",
    "0.0000001",
    "NaN",
    "99999999999999999999999999",
];

/// Binary integers at the same edges, for length and offset fields.
const BINARY: &[u32] = &[
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x10000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// Makes mutated inputs from seeds.
pub struct Mutator {
    rng: fastrand::Rng,
    max_len: usize,
}

impl Mutator {
    /// A mutator whose inputs never grow past `max_len` bytes.
    pub fn new(seed: u64, max_len: usize) -> Mutator {
        Mutator {
            rng: fastrand::Rng::with_seed(seed),
            max_len: max_len.max(1),
        }
    }

    /// A mutated copy of `input`; `other` (another seed of the same target) feeds splices.
    pub fn mutate(&mut self, input: &[u8], other: &[u8]) -> Vec<u8> {
        let mut data = input.to_vec();
        let edits = 1 + self.rng.usize(..4);
        for _ in 0..edits {
            match self.rng.u8(..10) {
                0 | 1 => self.flip_bits(&mut data),
                2 => self.set_boundary_value(&mut data),
                3 => self.insert_token(&mut data),
                4 => self.delete_range(&mut data),
                5 => self.truncate(&mut data),
                6 => self.repeat_chunk(&mut data),
                7 => self.splice(&mut data, other),
                8 => self.copy_chunk(&mut data),
                _ => self.replace_number(&mut data),
            }
            data.truncate(self.max_len);
        }
        data
    }

    fn position(&mut self, data: &[u8]) -> usize {
        self.rng.usize(..=data.len())
    }

    /// A range of `data` of at most `max` bytes, as (start, end).
    fn range(&mut self, data: &[u8], max: usize) -> (usize, usize) {
        let start = self.rng.usize(..=data.len());
        let len = self.rng.usize(..=max.min(data.len() - start));
        (start, start + len)
    }

    fn flip_bits(&mut self, data: &mut [u8]) {
        if data.is_empty() {
            return;
        }
        for _ in 0..1 + self.rng.usize(..8) {
            let at = self.rng.usize(..data.len());
            data[at] ^= 1 << self.rng.u8(..8);
        }
    }

    fn set_boundary_value(&mut self, data: &mut [u8]) {
        if data.is_empty() {
            return;
        }
        let value = BINARY[self.rng.usize(..BINARY.len())];
        let bytes = if self.rng.bool() {
            value.to_le_bytes()
        } else {
            value.to_be_bytes()
        };
        let width = [1, 2, 4][self.rng.usize(..3)];
        let at = self.rng.usize(..data.len());
        let end = (at + width).min(data.len());
        let source = if self.rng.bool() {
            &bytes[..width]
        } else {
            &bytes[4 - width..]
        };
        data[at..end].copy_from_slice(&source[..end - at]);
    }

    fn insert_token(&mut self, data: &mut Vec<u8>) {
        let token = TOKENS[self.rng.usize(..TOKENS.len())];
        let at = self.position(data);
        data.splice(at..at, token.iter().copied());
    }

    fn delete_range(&mut self, data: &mut Vec<u8>) {
        let (start, end) = self.range(data, 256);
        data.drain(start..end);
    }

    fn truncate(&mut self, data: &mut Vec<u8>) {
        let at = self.position(data);
        data.truncate(at);
    }

    /// Repeats a short chunk many times in place: deep nesting, long lines, many records.
    fn repeat_chunk(&mut self, data: &mut Vec<u8>) {
        let (start, end) = self.range(data, 64);
        let chunk: Vec<u8> = if start == end {
            TOKENS[self.rng.usize(..TOKENS.len())].to_vec()
        } else {
            data[start..end].to_vec()
        };
        let room = self.max_len.saturating_sub(data.len()) / chunk.len().max(1);
        let times = self.rng.usize(1..=4096).min(room);
        let repeated: Vec<u8> = chunk.repeat(times);
        data.splice(end..end, repeated);
    }

    fn splice(&mut self, data: &mut Vec<u8>, other: &[u8]) {
        let keep = self.position(data);
        let from = self.rng.usize(..=other.len());
        data.truncate(keep);
        data.extend_from_slice(&other[from..]);
    }

    fn copy_chunk(&mut self, data: &mut Vec<u8>) {
        let (start, end) = self.range(data, 512);
        let chunk = data[start..end].to_vec();
        let at = self.position(data);
        data.splice(at..at, chunk);
    }

    /// Swaps a run of ASCII digits for an extreme number.
    fn replace_number(&mut self, data: &mut Vec<u8>) {
        if data.is_empty() {
            return;
        }
        let from = self.rng.usize(..data.len());
        let Some(offset) = data[from..].iter().position(u8::is_ascii_digit) else {
            self.set_boundary_value(data);
            return;
        };
        let start = from + offset;
        let end = start
            + data[start..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
        let number = NUMBERS[self.rng.usize(..NUMBERS.len())];
        data.splice(start..end, number.bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::Mutator;

    #[test]
    fn same_seed_same_inputs_and_length_is_bounded() {
        let seed = b"{\"name\": \"lodash\", \"version\": \"4.17.21\"}";
        let run = |s| {
            let mut m = Mutator::new(s, 4096);
            (0..200)
                .map(|_| m.mutate(seed, b"other seed"))
                .collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        assert!(a.iter().all(|x| x.len() <= 4096));
        assert!(a.iter().any(|x| x.as_slice() != seed));
    }

    #[test]
    fn empty_inputs_are_fine() {
        let mut m = Mutator::new(1, 64);
        for _ in 0..1000 {
            assert!(m.mutate(b"", b"").len() <= 64);
        }
    }
}
