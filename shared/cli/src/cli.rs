//! The command line: clap's argument types and the commands that run the
//! library and print the results on stdout (progress and questions go to
//! stderr or the terminal).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use kluis_core::timestamp::Timestamp;
use kluis_core::validate::Language;
use zeroize::Zeroizing;

use crate::error::Result;
use crate::progress::Ui;
use crate::send::{SendFile, SendOptions};
use crate::upload::Tuning;
use crate::{manage, prompt, receive, reply, send};

/// kluis: send and receive files encrypted on this machine.
#[derive(Debug, Parser)]
#[command(name = "kluis", version, about)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send files: verify your address with a mailed code, encrypt, upload, notify.
    Send(SendArgs),
    /// Receive the files of a retrieval link into a folder.
    Receive(ReceiveArgs),
    /// Answer a transfer you received with files, sealed under its password:
    /// no new verification, the transfer's sender is the recipient.
    Reply(ReplyArgs),
    /// Show a transfer's state and downloads (the manage link from your summary mail).
    Status {
        /// The manage link.
        manage_link: String,
    },
    /// Revoke a transfer: its files are deleted and recipients told.
    Revoke {
        /// The manage link.
        manage_link: String,
    },
}

/// Mail language.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Lang {
    /// Dutch.
    Nl,
    /// English.
    En,
}

/// `kluis send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// Your e-mail address (a code is mailed to it).
    #[arg(long)]
    pub from: String,
    /// Your name, as recipients see it.
    #[arg(long)]
    pub name: String,
    /// Your phone number, shown to recipients.
    #[arg(long)]
    pub phone: Option<String>,
    /// A recipient (repeat for more).
    #[arg(long = "to", required = true)]
    pub to: Vec<String>,
    /// A confidential message, encrypted with the files.
    #[arg(long, default_value = "")]
    pub message: String,
    /// Use this password instead of a generated one (visible to other
    /// users of this machine in the process list: prefer the generated one).
    #[arg(long)]
    pub password: Option<String>,
    /// Days until the transfer expires (default: the server's).
    #[arg(long)]
    pub retention_days: Option<u32>,
    /// Language of the mails.
    #[arg(long, value_enum, default_value = "nl")]
    pub language: Lang,
    /// Mail me when a recipient downloads a file.
    #[arg(long)]
    pub receipts: bool,
    /// The kluis server.
    #[arg(long, env = "KLUIS_API", default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// The files to send.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// `kluis receive`.
#[derive(Debug, clap::Args)]
pub struct ReceiveArgs {
    /// The retrieval link from the notification mail.
    pub link: String,
    /// The password (asked for when missing).
    #[arg(long)]
    pub password: Option<String>,
    /// The folder to write the files to.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

/// `kluis reply`.
#[derive(Debug, clap::Args)]
pub struct ReplyArgs {
    /// The retrieval link of the transfer you answer.
    pub link: String,
    /// Your name, as the sender sees it.
    #[arg(long)]
    pub name: String,
    /// Your phone number, shown to the sender.
    #[arg(long)]
    pub phone: Option<String>,
    /// A confidential message, encrypted with the files.
    #[arg(long, default_value = "")]
    pub message: String,
    /// The transfer's password (asked for when missing).
    #[arg(long)]
    pub password: Option<String>,
    /// Mail me when the sender downloads a file.
    #[arg(long)]
    pub receipts: bool,
    /// The files to send back.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs one command.
pub fn run(args: Args, ui: &Ui) -> Result<()> {
    match args.command {
        Command::Send(send) => run_send(send, ui),
        Command::Receive(receive) => run_receive(receive, ui),
        Command::Reply(reply) => run_reply(reply, ui),
        Command::Status { manage_link } => {
            let Some(status) = manage::status_or_gone(&manage_link)? else {
                println!("State:     revoked or expired: its files and keys are deleted");
                return Ok(());
            };
            println!("Transfer:  {}", status.transfer_id);
            println!("State:     {:?}", status.state);
            println!("Created:   {}", utc(status.created_at));
            println!("Expires:   {}", utc(status.expires_at));
            println!("Files:     {}", status.files.len());
            for recipient in &status.recipients {
                match recipient.first_download_at {
                    Some(at) => println!(
                        "  {}: first download {}, {} file download(s)",
                        recipient.email,
                        utc(at),
                        recipient.downloads.len()
                    ),
                    None => println!("  {}: not downloaded yet", recipient.email),
                }
            }
            Ok(())
        }
        Command::Revoke { manage_link } => {
            let revoked = manage::revoke(&manage_link)?;
            println!("Revoked {}", revoked.transfer_id);
            for address in &revoked.undelivered {
                println!("Could not tell {address}");
            }
            Ok(())
        }
    }
}

fn run_send(args: SendArgs, ui: &Ui) -> Result<()> {
    let options = SendOptions {
        api: args.api,
        from: args.from,
        name: args.name,
        phone: args.phone,
        to: args.to,
        message: args.message,
        password: args.password.map(Zeroizing::new),
        retention_days: args.retention_days,
        language: match args.language {
            Lang::Nl => Language::Nl,
            Lang::En => Language::En,
        },
        download_receipts: args.receipts,
        files: args.files.into_iter().map(SendFile::new).collect(),
        tuning: Tuning::default(),
    };
    let report = send::send(&options, &mut |email| prompt::code(email), ui)?;
    println!("Transfer:  {}", report.transfer_id);
    println!("Expires:   {}", utc(report.expires_at));
    for (name, size) in &report.files {
        println!("File:      {name} ({size} bytes)");
    }
    if report.password_generated {
        // The only time the password is shown: it is not stored anywhere.
        println!("Password:  {}", report.password.as_str());
        println!("           Pass it on by phone or chat, never by mail. It is not shown again.");
    }
    println!(
        "Manage:    {}",
        if report.summary_delivered {
            "the link to follow or revoke this transfer was mailed to you"
        } else {
            "the summary mail with the manage link could not be sent"
        }
    );
    for address in &report.undelivered {
        println!("Not notified: {address} (send them the link yourself)");
    }
    Ok(())
}

fn run_reply(args: ReplyArgs, ui: &Ui) -> Result<()> {
    let password = match args.password {
        Some(given) => Zeroizing::new(given),
        None => prompt::password("Password of the transfer you answer: ")?,
    };
    let options = reply::ReplyOptions {
        link: args.link,
        password,
        name: args.name,
        phone: args.phone,
        message: args.message,
        language: None,
        download_receipts: args.receipts,
        files: args.files.into_iter().map(SendFile::new).collect(),
        tuning: Tuning::default(),
    };
    let report = reply::reply(&options, ui)?;
    println!("Reply:     {} (to {})", report.transfer_id, report.in_reply_to);
    println!("Expires:   {}", utc(report.expires_at));
    for (name, size) in &report.files {
        println!("File:      {name} ({size} bytes)");
    }
    for address in &report.undelivered {
        println!("Not notified: {address}");
    }
    Ok(())
}

fn run_receive(args: ReceiveArgs, ui: &Ui) -> Result<()> {
    let options = receive::ReceiveOptions {
        link: args.link,
        password: args.password.map(Zeroizing::new),
        out: args.out,
    };
    let report = receive::receive(&options, ui)?;
    println!("From:      {} <{}>", report.sender.name, report.sender.email);
    if !report.message.is_empty() {
        println!("Message:   {}", report.message);
    }
    for file in &report.files {
        println!("Saved:     {} ({} bytes)", file.path.display(), file.size);
    }
    Ok(())
}

/// A timestamp as `YYYY-MM-DD HH:MM UTC` (days-to-civil, proleptic Gregorian).
fn utc(at: Timestamp) -> String {
    let secs = at.unix_seconds();
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(Timestamp::from_unix_seconds(0)), "1970-01-01 00:00 UTC");
        assert_eq!(
            utc(Timestamp::from_unix_seconds(1_798_761_600)),
            "2027-01-01 00:00 UTC"
        );
        assert_eq!(
            utc(Timestamp::from_unix_seconds(951_782_400 + 3_661)),
            "2000-02-29 01:01 UTC"
        );
    }
}
