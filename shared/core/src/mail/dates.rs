//! Dates as mails show them, in the mail's language and always in UTC (the
//! server does not know the reader's time zone, and says so).

use time::Month;

use crate::timestamp::Timestamp;
use crate::validate::Language;

const fn month_name(month: Month, language: Language) -> &'static str {
    match (language, month) {
        (Language::Nl, Month::January) => "januari",
        (Language::Nl, Month::February) => "februari",
        (Language::Nl, Month::March) => "maart",
        (Language::Nl, Month::April) => "april",
        (Language::Nl, Month::May) => "mei",
        (Language::Nl, Month::June) => "juni",
        (Language::Nl, Month::July) => "juli",
        (Language::Nl, Month::August) => "augustus",
        (Language::Nl, Month::September) => "september",
        (Language::Nl, Month::October) => "oktober",
        (Language::Nl, Month::November) => "november",
        (Language::Nl, Month::December) => "december",
        (Language::En, Month::January) => "January",
        (Language::En, Month::February) => "February",
        (Language::En, Month::March) => "March",
        (Language::En, Month::April) => "April",
        (Language::En, Month::May) => "May",
        (Language::En, Month::June) => "June",
        (Language::En, Month::July) => "July",
        (Language::En, Month::August) => "August",
        (Language::En, Month::September) => "September",
        (Language::En, Month::October) => "October",
        (Language::En, Month::November) => "November",
        (Language::En, Month::December) => "December",
    }
}

/// `4 december 2026, 18:05 UTC` (Dutch) or `4 December 2026, 18:05 UTC` (English).
pub(crate) fn format_date_time(at: Timestamp, language: Language) -> String {
    let utc = at.to_utc();
    format!(
        "{} {} {}, {:02}:{:02} UTC",
        utc.day(),
        month_name(utc.month(), language),
        utc.year(),
        utc.hour(),
        utc.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_out_in_the_mail_language() {
        let at = Timestamp::from_unix_seconds(1_796_407_500); // 2026-12-04T18:05:00Z
        assert_eq!(format_date_time(at, Language::Nl), "4 december 2026, 18:05 UTC");
        assert_eq!(format_date_time(at, Language::En), "4 December 2026, 18:05 UTC");
        let may = Timestamp::from_unix_seconds(1_778_889_600); // 2026-05-16T00:00:00Z
        assert_eq!(format_date_time(may, Language::Nl), "16 mei 2026, 00:00 UTC");
    }
}
