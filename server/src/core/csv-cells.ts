/**
 * Spreadsheet-safe CSV cells, for every CSV the server writes or reads (statistics, CRM). A cell
 * that a spreadsheet would run as a formula (names come from users and clients) is written with a
 * leading apostrophe; reading a file back drops that apostrophe again.
 */
const FORMULA = /^[=+\-@\t\r]/;

export const spreadsheetSafe = (text: string): string => (FORMULA.test(text) ? `'${text}` : text);

export const fromSpreadsheet = (text: string): string =>
  text.startsWith("'") && FORMULA.test(text.slice(1)) ? text.slice(1) : text;
