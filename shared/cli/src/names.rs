//! Where a received file may land: manifest names are the sender's input,
//! so a name that is not one plain file name is refused, and an existing
//! file is never overwritten (the next free "name (n).ext" is used).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Characters Windows refuses in names (a CLI run there must not fail
/// halfway, and a `:` would open an NTFS alternate stream).
const WINDOWS_RESERVED: &[char] = &['<', '>', ':', '"', '|', '?', '*'];

/// Checks that `name` is one plain file name that stays inside any folder:
/// not empty, no `/` or `\`, no control character (NUL included), no
/// Windows-reserved character, not starting with `.` (which covers `.`, `..`
/// and hidden files a user would not see), no trailing dot or space.
pub fn check(name: &str) -> Result<()> {
    let refused = name.is_empty()
        || name.len() > 255
        || name.starts_with('.')
        || name.ends_with(['.', ' '])
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control() || WINDOWS_RESERVED.contains(&c));
    if refused {
        return Err(Error::UnsafeName(name.to_owned()));
    }
    // Belt and braces: the path must be exactly one normal component.
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(std::path::Component::Normal(_)), None) => Ok(()),
        _ => Err(Error::UnsafeName(name.to_owned())),
    }
}

/// `name`, then "stem (1).ext", "stem (2).ext"… : the candidates for a
/// file that must not overwrite what is already in `dir`.
pub fn candidates(dir: &Path, name: &str) -> impl Iterator<Item = PathBuf> {
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 => (&name[..dot], &name[dot..]),
        _ => (name, ""),
    };
    let first = dir.join(name);
    let dir = dir.to_owned();
    let (stem, ext) = (stem.to_owned(), ext.to_owned());
    std::iter::once(first).chain((1..=9999u32).map(move |n| dir.join(format!("{stem} ({n}){ext}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for name in [
            "report.pdf",
            "a",
            "Jaarverslag 2026 (concept).docx",
            "naïve.txt",
            "x.tar.gz",
        ] {
            check(name).expect(name);
        }
    }

    #[test]
    fn fail_names_that_escape_or_hide_are_refused() {
        for name in [
            "",
            ".",
            "..",
            "../x",
            "..\\x",
            "a/b",
            "/etc/passwd",
            "C:\\x",
            "c:x",
            ".bashrc",
            "a\0b",
            "line\nbreak",
            "trailing.",
            "trailing ",
            "a|b",
        ] {
            assert!(matches!(check(name), Err(Error::UnsafeName(_))), "{name:?}");
        }
        assert!(check(&"a".repeat(256)).is_err());
    }

    #[test]
    fn candidates_number_before_the_extension() {
        let dir = Path::new("/out");
        let names: Vec<_> = candidates(dir, "report.pdf").take(3).collect();
        assert_eq!(
            names,
            [
                dir.join("report.pdf"),
                dir.join("report (1).pdf"),
                dir.join("report (2).pdf")
            ]
        );
        let names: Vec<_> = candidates(dir, "README").take(2).collect();
        assert_eq!(names, [dir.join("README"), dir.join("README (1)")]);
    }
}
