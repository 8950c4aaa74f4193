//! Dictatable passwords: generation and normalization.
//!
//! A generated password is 21 symbols drawn uniformly from a 31-symbol
//! alphabet without look-alikes (no `0`/`o`, `1`/`l`/`i`), shown as seven
//! groups of three joined by `-`, e.g. `k7m-x2p-…`: 21 · log2(31) ≈ 104.0 bits.
//! A person typing it back may use capitals, spaces or no separators at all;
//! [`normalize`] maps all of those to the one canonical form that enters
//! Argon2id, so "K7M X2P…" and "k7m-x2p-…" unlock the same transfer.

use alloc::string::String;

use crate::Result;

/// The symbols of generated passwords, in order.
pub const ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Number of symbols in a generated password.
pub const SYMBOLS: usize = 21;
/// Symbols per group.
pub const GROUP: usize = 3;
/// The separator between groups.
pub const SEPARATOR: char = '-';

/// Entropy of a generated password in bits (≈ 104.04).
pub fn generated_entropy_bits() -> f64 {
    // log2(31) = ln 31 / ln 2, written out because `f64::log2` needs std.
    const LOG2_31: f64 = 4.954_196_310_386_876;
    SYMBOLS as f64 * LOG2_31
}

/// A new random password in the canonical grouped form.
pub fn generate() -> Result<String> {
    let mut symbols = [0u8; SYMBOLS];
    let mut filled = 0;
    let mut pool = [0u8; 64];
    while filled < SYMBOLS {
        crate::random::fill(&mut pool)?;
        for &byte in &pool {
            // Rejection sampling keeps the choice uniform: 248 = 8 · 31 is the
            // largest multiple of 31 that fits a byte.
            if byte < 248 && filled < SYMBOLS {
                symbols[filled] = ALPHABET[usize::from(byte % 31)];
                filled += 1;
            }
        }
    }
    let password = group(&symbols);
    zeroize::Zeroize::zeroize(&mut symbols);
    zeroize::Zeroize::zeroize(&mut pool);
    Ok(password)
}

fn group(symbols: &[u8; SYMBOLS]) -> String {
    let mut out = String::with_capacity(SYMBOLS + SYMBOLS / GROUP);
    for (i, &s) in symbols.iter().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push(SEPARATOR);
        }
        out.push(char::from(s));
    }
    out
}

/// The form of `input` that enters Argon2id.
///
/// Surrounding white space is dropped. If what remains, without spaces and
/// `-`, is exactly [`SYMBOLS`] symbols of [`ALPHABET`] in any letter case, it
/// is a generated password and becomes its canonical grouped lower-case form.
/// Any other password is used exactly as typed (its UTF-8 bytes).
pub fn normalize(input: &str) -> String {
    let trimmed = input.trim();
    let mut symbols = [0u8; SYMBOLS];
    let mut count = 0;
    for c in trimmed.chars() {
        if c == ' ' || c == SEPARATOR {
            continue;
        }
        let lower = c.to_ascii_lowercase();
        if count == SYMBOLS || !lower.is_ascii() || !ALPHABET.contains(&(lower as u8)) {
            return String::from(trimmed);
        }
        symbols[count] = lower as u8;
        count += 1;
    }
    let out = if count == SYMBOLS {
        group(&symbols)
    } else {
        String::from(trimmed)
    };
    zeroize::Zeroize::zeroize(&mut symbols);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_have_the_documented_shape() {
        let pw = generate().unwrap();
        assert_eq!(pw.len(), SYMBOLS + SYMBOLS / GROUP - 1);
        for (i, group) in pw.split(SEPARATOR).enumerate() {
            assert_eq!(group.len(), GROUP, "group {i} of {pw}");
            assert!(group.bytes().all(|b| ALPHABET.contains(&b)));
        }
        assert_eq!(normalize(&pw), pw);
    }

    #[test]
    fn generated_passwords_carry_at_least_100_bits() {
        assert!(generated_entropy_bits() >= 100.0);
        assert!(generated_entropy_bits() < 104.1);
    }

    #[test]
    fn alphabet_has_no_look_alikes_and_no_duplicates() {
        for bad in b"01ilo" {
            assert!(!ALPHABET.contains(bad));
        }
        let mut sorted = ALPHABET.to_vec();
        sorted.dedup();
        assert_eq!(sorted.len(), ALPHABET.len());
    }

    #[test]
    fn every_symbol_appears_over_many_generations() {
        let mut seen = [false; 31];
        for _ in 0..200 {
            for b in generate().unwrap().bytes().filter(|&b| b != b'-') {
                seen[ALPHABET.iter().position(|&a| a == b).unwrap()] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn dictated_variants_normalize_to_the_canonical_form() {
        let canonical = "k7m-x2p-abc-def-ghj-kmn-pqr";
        for typed in [
            "K7M-X2P-ABC-DEF-GHJ-KMN-PQR",
            "k7m x2p abc def ghj kmn pqr",
            "k7mx2pabcdefghjkmnpqr",
            "  k7m-x2p-abc-def-ghj-kmn-pqr\n",
            "k7-mx2p abcd-efghjkm npqr",
        ] {
            assert_eq!(normalize(typed), canonical, "{typed:?}");
        }
    }

    #[test]
    fn other_passwords_are_used_as_typed() {
        for typed in [
            "correct horse battery staple",
            "k7m-x2p-abc-def-ghj-kmn-pq",   // one symbol short
            "k7m-x2p-abc-def-ghj-kmn-pqrs", // one symbol too many
            "k7m-x2p-abc-def-ghj-kmn-pq0",  // look-alike, not in the alphabet
            "Wachtwoord-ë",
        ] {
            assert_eq!(normalize(typed), typed.trim());
        }
    }
}
