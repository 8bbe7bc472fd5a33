// Phone numbers and times as people read them. Numbers are kept in E.164 (+ and up to 15 digits).

// Two-digit country calling codes; 1 and 7 have one digit, all others three.
const CC2 = new Set(('20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 '
  + '60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98').split(' '));

// Whatever was typed or pasted ("00 44 (0)7400-123456", "tel:+1 415…") as E.164.
export function toE164(text) {
  const raw = String(text || '').replace(/\(0\)/g, '').trim();
  let digits = raw.replace(/\D/g, '');
  if (digits.startsWith('00')) digits = digits.slice(2); // the international prefix, typed or pasted
  return /[\d+]/.test(raw) ? `+${digits.slice(0, 15)}` : '';
}

// "+447400123456" -> "+44 740 012 3456": country code, then threes, the last group up to four.
export function formatNumber(e164) {
  const digits = String(e164 || '').replace(/\D/g, '');
  const cc = /^[17]/.test(digits) ? 1 : CC2.has(digits.slice(0, 2)) ? 2 : 3;
  if (digits.length <= cc) return digits || e164 === '+' ? `+${digits}` : '';
  let rest = digits.slice(cc);
  const groups = [];
  for (; rest.length > 4; rest = rest.slice(3)) groups.push(rest.slice(0, 3));
  return `+${digits.slice(0, cc)} ${[...groups, rest].join(' ')}`;
}

export const isPlausible = (e164) => /^\+[1-9]\d{7,14}$/.test(e164 || '');

// Reformat an <input> as the user types, keeping the caret after the same number of digits.
export function reformatInput(input) {
  const digitsBefore = input.value.slice(0, input.selectionStart ?? input.value.length).replace(/\D/g, '').length;
  const formatted = formatNumber(toE164(input.value));
  if (formatted === input.value) return;
  input.value = formatted;
  let position = 1;
  for (let seen = 0; position < formatted.length && seen < digitsBefore; position += 1) {
    if (/\d/.test(formatted[position])) seen += 1;
  }
  input.setSelectionRange(position, position);
}

// 75 -> "01:15"; 3675 -> "1:01:15".
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n) => String(n).padStart(2, '0');
  const rest = `${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${rest}` : rest;
}

// An ISO time as the local time of day, with the date when it is not today.
export function timeOf(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return '';
  const time = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return when.toDateString() === new Date().toDateString() ? time
    : `${when.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`;
}

export function ago(iso) {
  const minutes = Math.round((Date.now() - new Date(iso).getTime()) / 60000);
  if (!(minutes >= 1)) return 'just now';
  return minutes < 60 ? `${minutes} min ago` : minutes < 2880 ? `${Math.round(minutes / 60)} h ago` : `on ${timeOf(iso)}`;
}

// An ISO time as the rep's local time of day, with the weekday when it is not today ("Tue 14:00").
export function dayTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return '';
  const time = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return when.toDateString() === new Date().toDateString() ? time
    : `${when.toLocaleDateString([], { weekday: 'short' })} ${time}`;
}
