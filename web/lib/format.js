// Numbers, sizes, speeds, durations and dates as the reader's language
// writes them.
import { language, t } from './i18n.js';

/**
 * The reader's own locale when it is of the page's language (en-GB dates
 * for a British reader), else the language itself.
 */
function locale() {
  const own = (navigator.languages || [navigator.language || ''])
    .find((tag) => String(tag).toLowerCase().split('-')[0] === language());
  return own || language();
}

/** `bytes` as "1.5 MB" (decimal units, as file managers show them). */
export function bytes(n) {
  const units = t('units');
  let value = Number(n);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value)} ${units[unit]}`;
}

/** Bytes per second as "12 MB/s". */
export function speed(bytesPerSecond) {
  return bytesPerSecond ? t('perSecond', bytes(bytesPerSecond)) : '';
}

/** Seconds as "42 s", "3 min 5 s" or "1 h 2 min". */
export function duration(seconds) {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return t('seconds', s);
  if (s < 3600) return t('minutes', Math.floor(s / 60), s % 60);
  return t('hours', Math.floor(s / 3600), Math.floor((s % 3600) / 60));
}

/** A fraction as "42 %" in the reader's style. */
export function percent(fraction) {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(fraction);
}

/** Unix seconds as a long date and time. */
export function dateTime(unixSeconds) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'long', timeStyle: 'short' })
    .format(new Date(unixSeconds * 1000));
}
