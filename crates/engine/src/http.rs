//! Just enough HTTP/1.1 to talk to a container engine over its unix socket: one `GET` per
//! connection (`Connection: close`), a status line and headers, and a body framed by
//! `Content-Length`, chunked transfer coding, or the end of the connection. Engines answer on a
//! local socket, so there is no TLS, no redirect and no proxy to handle; what is handled with
//! care is a body that stops early (a truncated export must fail, not end quietly) and an
//! engine that stops answering or trickles: every read has a timeout, the head (and a small
//! answer's body) a deadline, and a streamed body a minimum rate.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::pace::Paced;
use crate::MinRate;

/// Longest status line plus headers accepted; engines send a few hundred bytes.
const MAX_HEAD: usize = 64 << 10;

/// An answer whose body is still on the socket.
pub(crate) struct Response {
    pub status: u16,
    pub body: Box<dyn Read + Send>,
}

impl Response {
    /// The body, up to `limit` bytes (for JSON answers and error messages).
    pub fn read_small(mut self, limit: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        (&mut self.body).take(limit + 1).read_to_end(&mut out)?;
        if out.len() as u64 > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the engine's answer is larger than {limit} bytes"),
            ));
        }
        Ok(out)
    }
}

/// How the body of an answer is expected to come.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pace {
    /// Small: the whole answer, head and body, within the timeout.
    Whole,
    /// Streamed (an export): the head within the timeout, the body at least at this rate.
    Stream(MinRate),
    /// Open-ended (an event stream): the head within the timeout, then the body may pause
    /// for as long as nothing happens; only closing the connection ends it.
    Open,
}

/// The socket, with each read bounded by the per-read timeout and, while `deadline` is set,
/// by the time left until it.
struct Socket {
    stream: UnixStream,
    per_read: Duration,
    deadline: Option<Instant>,
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(deadline) = self.deadline {
            let left = deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::TimedOut, "the answer's deadline passed")
                })?;
            self.stream
                .set_read_timeout(Some(left.min(self.per_read)))?;
        }
        self.stream.read(buf)
    }
}

/// Sends `GET path` over the socket at `socket` and reads the status and headers. Each read
/// waits at most `timeout`; the head must be in within `timeout` too, and the body as `pace`
/// says.
pub(crate) fn get(
    socket: &Path,
    path: &str,
    timeout: Duration,
    pace: Pace,
) -> io::Result<Response> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bulwark/{}\r\nAccept: application/json, application/x-tar\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream.write_all(request.as_bytes())?;
    let socket = Socket {
        stream,
        per_read: timeout,
        deadline: Some(Instant::now() + timeout),
    };
    let mut reader = BufReader::with_capacity(256 * 1024, socket);
    let mut head_bytes = 0usize;
    let mut line = String::new();
    let status = loop {
        line.clear();
        head_bytes += read_head_line(&mut reader, &mut line, head_bytes)?;
        // A 100 Continue (never expected for a GET) would be followed by the real answer.
        let status = parse_status(&line)?;
        if status != 100 {
            break status;
        }
        loop {
            line.clear();
            head_bytes += read_head_line(&mut reader, &mut line, head_bytes)?;
            if line.trim_end().is_empty() {
                break;
            }
        }
    };
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        head_bytes += read_head_line(&mut reader, &mut line, head_bytes)?;
        let text = line.trim_end();
        if text.is_empty() {
            break;
        }
        let Some((name, value)) = text.split_once(':') else {
            return Err(bad(format!("malformed header line {text:?}")));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| bad(format!("bad Content-Length {value:?}")))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    let reader: Box<dyn BufRead + Send> = match pace {
        Pace::Whole => Box::new(reader),
        Pace::Stream(rate) => {
            reader.get_mut().deadline = None;
            Box::new(BufReader::new(Paced::new(reader, rate)))
        }
        Pace::Open => {
            let socket = reader.get_mut();
            socket.deadline = None;
            socket.stream.set_read_timeout(None)?;
            Box::new(reader)
        }
    };
    let body: Box<dyn Read + Send> = if chunked {
        Box::new(Chunked {
            inner: reader,
            left: 0,
            done: false,
        })
    } else if let Some(len) = length {
        Box::new(Exact {
            inner: reader.take(len),
            len,
        })
    } else {
        Box::new(reader)
    };
    Ok(Response { status, body })
}

fn bad(message: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the engine's HTTP answer is malformed: {message}"),
    )
}

fn read_head_line(
    reader: &mut impl BufRead,
    line: &mut String,
    so_far: usize,
) -> io::Result<usize> {
    let n = reader
        .take((MAX_HEAD - so_far.min(MAX_HEAD)) as u64)
        .read_line(line)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the engine closed the connection before answering",
        ));
    }
    if !line.ends_with('\n') {
        return Err(bad("headers too long or cut short".to_string()));
    }
    Ok(n)
}

fn parse_status(line: &str) -> io::Result<u16> {
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/1.") => code
            .parse()
            .map_err(|_| bad(format!("bad status line {:?}", line.trim_end()))),
        _ => Err(bad(format!("bad status line {:?}", line.trim_end()))),
    }
}

/// A `Content-Length` body that must arrive whole.
struct Exact<R> {
    inner: io::Take<R>,
    len: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && self.inner.limit() > 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the engine's answer stopped after {} of {} bytes",
                    self.len - self.inner.limit(),
                    self.len
                ),
            ));
        }
        Ok(n)
    }
}

/// A chunked body; the connection closing before the last (zero-size) chunk is an error.
struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    fn next_chunk(&mut self) -> io::Result<()> {
        let mut line = String::new();
        let n = (&mut self.inner).take(1024).read_line(&mut line)?;
        if n == 0 || !line.ends_with('\n') {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the engine's answer stopped in the middle (chunked body cut short)",
            ));
        }
        let size = line.trim_end().split(';').next().unwrap_or("").trim();
        self.left =
            u64::from_str_radix(size, 16).map_err(|_| bad(format!("bad chunk size {size:?}")))?;
        if self.left == 0 {
            // Trailers, then the empty line that ends the body.
            loop {
                line.clear();
                let n = (&mut self.inner).take(8192).read_line(&mut line)?;
                if n == 0 || line.trim_end().is_empty() {
                    break;
                }
            }
            self.done = true;
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.done {
            return Ok(0);
        }
        if self.left == 0 {
            self.next_chunk()?;
            if self.done {
                return Ok(0);
            }
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the engine's answer stopped in the middle of a chunk",
            ));
        }
        self.left -= n as u64;
        if self.left == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
            if &crlf != b"\r\n" {
                return Err(bad("chunk not followed by CRLF".to_string()));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(body: &[u8]) -> io::Result<Vec<u8>> {
        let mut c = Chunked {
            inner: body,
            left: 0,
            done: false,
        };
        let mut out = Vec::new();
        c.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn chunked_bodies_decode_and_truncation_fails() {
        assert_eq!(
            chunked(b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n").unwrap(),
            b"hello world"
        );
        assert!(chunked(b"5\r\nhello\r\n6\r\n wo").is_err());
        assert!(chunked(b"5\r\nhello\r\n").is_err());
        assert!(chunked(b"zz\r\n").is_err());
    }

    /// An engine on a unix socket in `dir` that answers one request: `head` at once when
    /// `prompt_head`, and everything else one byte per 50 ms.
    fn trickling_engine(dir: &Path, prompt_head: bool) -> std::path::PathBuf {
        let socket = dir.join("engine.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        std::thread::spawn(move || {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let mut request = [0u8; 1024];
            let _ = s.read(&mut request);
            let head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
            if prompt_head && s.write_all(head).is_err() {
                return;
            }
            let rest: &[u8] = if prompt_head { &[] } else { head };
            for &b in rest.iter().chain(std::iter::repeat(&b'x')) {
                if s.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        socket
    }

    /// Issue 13.8, the engine side: a head trickled byte by byte used to reset the per-read
    /// timeout forever; it now has to be in within the timeout (1 s here).
    #[test]
    fn issue13_8_a_trickled_head_misses_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let socket = trickling_engine(dir.path(), false);
        let started = Instant::now();
        let err = get(&socket, "/version", Duration::from_secs(1), Pace::Whole)
            .err()
            .expect("the head never completes in time");
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    /// Issue 13.8: an export body trickled byte by byte is under the minimum rate.
    #[test]
    fn issue13_8_a_trickled_export_is_under_the_minimum_rate() {
        let dir = tempfile::tempdir().unwrap();
        let socket = trickling_engine(dir.path(), true);
        let rate = MinRate {
            bytes_per_sec: 1024,
            window: Duration::from_secs(1),
        };
        let response = get(
            &socket,
            "/images/x/get",
            Duration::from_secs(5),
            Pace::Stream(rate),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        let err = io::copy(&mut { response.body }, &mut io::sink())
            .expect_err("the trickle is given up on");
        let slow = crate::pace::too_slow(&err).unwrap_or_else(|| panic!("{err}"));
        assert_eq!(slow.min, 1024);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn exact_bodies_must_be_whole() {
        let mut e = Exact {
            inner: (&b"abc"[..]).take(5),
            len: 5,
        };
        let mut out = Vec::new();
        let err = e.read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("3 of 5"), "{err}");
    }
}
