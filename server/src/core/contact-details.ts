/**
 * A client's contact details (AA-2's contact form, and the built-in bot's "leave your contact
 * details" step, BOT-3): what a valid name, e-mail and phone are, and which of them a typed message
 * gives. The form sends fields; a messenger or mail client types one line, so the bot reads the
 * fields out of the text. Pure: no I/O.
 */

export interface ContactDetails {
  name?: string;
  email?: string;
  phone?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{5,30}$/;
export const CONTACT_NAME_MAX = 200;

/** Problems of submitted fields, each naming its field under `prefix` (`body.fields.email`). */
export function contactFieldErrors(
  fields: ContactDetails,
  prefix: string,
): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  const { name, email, phone } = fields;
  if (!name && !email && !phone) errors.push({ field: prefix, message: 'fill in at least one field' });
  if (name !== undefined && (name.length === 0 || name.length > CONTACT_NAME_MAX))
    errors.push({ field: `${prefix}.name`, message: `must be 1–${CONTACT_NAME_MAX} characters` });
  if (email !== undefined && !EMAIL.test(email))
    errors.push({ field: `${prefix}.email`, message: 'is not an e-mail address' });
  if (phone !== undefined && !PHONE.test(phone))
    errors.push({ field: `${prefix}.phone`, message: 'is not a phone number' });
  return errors;
}

const EMAIL_IN_TEXT = /[^\s@<>,;:()"'[\]]+@[^\s@<>,;:()"'[\]]+\.[^\s@<>,;:()"'[\].]+/u;
/** A run of digits with the separators people type; 7–15 digits (E.164 allows at most 15). */
const PHONE_IN_TEXT = /\+?\d[\d\s().-]{4,28}\d/gu;
/** Words that introduce a field rather than being one ("меня зовут", "my name is", "тел.:"). */
const LEAD_INS =
  /(^|[\s,;])(меня зовут|моё имя|мое имя|my name is|i am|i'm|имя|name|телефон|тел\.?|phone|tel\.?|почта|e-?mail|mail)\s*[:-]?(?=\s|$)/giu;
const NAMED = /(меня зовут|моё имя|мое имя|my name is|имя\s*:|name\s*:)/iu;
/** One to four words of letters (with hyphens, apostrophes, dots): "Анна Петрова", "J. R. Smith". */
const NAME = /^\p{L}[\p{L}'’.-]*(?:\s+\p{L}[\p{L}'’.-]*){0,3}$/u;

const digitsOf = (text: string) => text.replace(/\D/g, '');

/**
 * The contact details a typed message gives: the first e-mail address, the first phone number
 * (7–15 digits), and a name — a short run of words left once those are taken out, only when the
 * message also gives an e-mail or a phone, or says it is a name ("меня зовут …", "my name is …"),
 * so "не знаю" or "later" is never stored as someone's name.
 */
export function contactDetailsIn(text: string): ContactDetails {
  const details: ContactDetails = {};
  let rest = text;
  const email = EMAIL_IN_TEXT.exec(rest)?.[0];
  if (email && EMAIL.test(email)) {
    details.email = email;
    rest = rest.replace(email, ' , ');
  }
  for (const match of rest.matchAll(PHONE_IN_TEXT)) {
    const digits = digitsOf(match[0]).length;
    if (digits >= 7 && digits <= 15) {
      details.phone = match[0].trim();
      rest = rest.replace(match[0], ' , ');
      break;
    }
  }
  const named = NAMED.test(text);
  if (details.email || details.phone || named) {
    const name = rest
      .replace(LEAD_INS, '$1,')
      .split(/[,;\n]+/)
      .map((part) =>
        part
          .trim()
          .replace(/\s+/g, ' ')
          .replace(/[.!]+$/, ''),
      )
      .find((part) => part.length > 0 && part.length <= CONTACT_NAME_MAX && NAME.test(part));
    if (name) details.name = name;
  }
  return details;
}

/** True when the details carry at least one field. */
export function hasContactDetails(details: ContactDetails): boolean {
  return Boolean(details.name || details.email || details.phone);
}
