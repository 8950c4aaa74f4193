//! Questions on the terminal: the mailed verification code and the
//! password. On a terminal the password is read without echo; when stdin is
//! not a terminal (scripts, tests) one line is read from it instead.

use std::io::{BufRead, IsTerminal, Write};

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Asks for the code mailed to `email`.
pub fn code(email: &str) -> Result<Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        let mut err = std::io::stderr();
        let _ = write!(err, "Code mailed to {email}: ");
        let _ = err.flush();
    }
    line()
}

/// Asks for a password without echo.
pub fn password(question: &str) -> Result<Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(question)
            .map(Zeroizing::new)
            .map_err(Error::Terminal)
    } else {
        line()
    }
}

/// One line of stdin without its line ending. An empty input is an error,
/// so a script that forgot to pipe the answer fails clearly.
fn line() -> Result<Zeroizing<String>> {
    let mut text = Zeroizing::new(String::new());
    let read = std::io::stdin()
        .lock()
        .read_line(&mut text)
        .map_err(Error::Terminal)?;
    if read == 0 {
        return Err(Error::Usage("no answer on standard input".into()));
    }
    let trimmed = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned());
    Ok(trimmed)
}
