//! Throughput and memory of the streaming API, for `tests/bench/crypto`.
//!
//! `crypto_bench encrypt BYTES` encrypts BYTES of generated plaintext to a
//! counting sink; `crypto_bench roundtrip BYTES DIR` also writes the object
//! to DIR (untimed), then decrypts it from the file to a sink (timed);
//! `crypto_bench argon2 RUNS` times Argon2id at the default parameters.
//! Each prints `key=value` lines, including the process's peak RSS.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::time::Instant;

use kluis_crypto::{ContentKey, FileId, KdfParams, TransferId};

/// Generated plaintext: a 64 KiB pattern repeated, `remaining` bytes. The
/// pattern stays in cache, as `openssl speed`'s buffer does, so the figure
/// is the crate's cost rather than the input's.
struct Source {
    pattern: Vec<u8>,
    offset: usize,
    remaining: u64,
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf
            .len()
            .min(self.pattern.len() - self.offset)
            .min(self.remaining as usize);
        buf[..n].copy_from_slice(&self.pattern[self.offset..self.offset + n]);
        self.offset = (self.offset + n) % self.pattern.len();
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn source(bytes: u64) -> Source {
    Source {
        pattern: (0..1 << 20).map(|i| (i * 7 % 251) as u8).collect(),
        offset: 0,
        remaining: bytes,
    }
}

/// Counts and discards what is written.
struct Sink(u64);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let transfer = TransferId::from_bytes([1; 16]);
    let file = FileId::from_bytes([2; 16]);
    let key = ContentKey::generate()?.file_key(&transfer, &file);
    match args.get(1).map(String::as_str) {
        Some("encrypt") => {
            let bytes: u64 = args.get(2).ok_or("BYTES")?.parse()?;
            let start = Instant::now();
            let mut sink = Sink(0);
            kluis_crypto::io::encrypt(&key, &transfer, &file, source(bytes), &mut sink)?;
            let secs = start.elapsed().as_secs_f64();
            println!("encrypt_bytes={bytes}");
            println!("encrypt_seconds={secs:.3}");
            println!("encrypt_mb_per_s={:.0}", bytes as f64 / secs / 1e6);
            println!("peak_rss_kib={}", peak_rss_kib());
        }
        Some("roundtrip") => {
            let bytes: u64 = args.get(2).ok_or("BYTES")?.parse()?;
            let path = std::path::Path::new(args.get(3).ok_or("DIR")?).join("bench.kluis");
            let mut out = BufWriter::new(File::create(&path)?);
            kluis_crypto::io::encrypt(&key, &transfer, &file, source(bytes), &mut out)?;
            out.into_inner()?.sync_all()?;
            let start = Instant::now();
            let mut sink = Sink(0);
            kluis_crypto::io::decrypt(&key, &transfer, &file, File::open(&path)?, &mut sink)?;
            let secs = start.elapsed().as_secs_f64();
            std::fs::remove_file(&path)?;
            assert_eq!(sink.0, bytes, "decrypted size");
            println!("decrypt_seconds={secs:.3}");
            println!("decrypt_mb_per_s={:.0}", bytes as f64 / secs / 1e6);
            println!("peak_rss_kib={}", peak_rss_kib());
        }
        Some("argon2") => {
            let runs: usize = args.get(2).ok_or("RUNS")?.parse()?;
            let mut times: Vec<f64> = (0..runs)
                .map(|_| {
                    let start = Instant::now();
                    kluis_crypto::derive_password_keys(
                        "k7m-x2p-abc-def-ghj-kmn-pqr",
                        &[7; 16],
                        KdfParams::DEFAULT,
                        &transfer,
                    )
                    .expect("default parameters are acceptable");
                    start.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            times.sort_by(f64::total_cmp);
            println!("argon2id_median_ms={:.0}", times[runs / 2]);
        }
        _ => return Err("usage: crypto_bench encrypt BYTES | roundtrip BYTES DIR | argon2 RUNS".into()),
    }
    Ok(())
}
