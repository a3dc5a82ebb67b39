import { describe, expect, it } from 'vitest';
import { contactDetailsIn, contactFieldErrors } from './contact-details';

describe('contactDetailsIn: the details a typed message gives (the bot’s contact step)', () => {
  it.each([
    [
      'Анна Петрова, +7 900 123-45-67, anna@example.ru',
      { name: 'Анна Петрова', phone: '+7 900 123-45-67', email: 'anna@example.ru' },
    ],
    ['Меня зовут Иван, телефон 8 (912) 555-01-02', { name: 'Иван', phone: '8 (912) 555-01-02' }],
    ['my name is John Smith', { name: 'John Smith' }],
    ['John, john.smith@mail.example.com', { name: 'John', email: 'john.smith@mail.example.com' }],
    ['e-mail: ops@shop.test', { email: 'ops@shop.test' }],
    ['+44 20 7946 0958', { phone: '+44 20 7946 0958' }],
    // Mail: the subject line comes first and is not a name.
    ['Re: Message from Shop\n\nМария\nmaria@example.org', { name: 'Мария', email: 'maria@example.org' }],
  ])('%s', (text, expected) => {
    expect(contactDetailsIn(text)).toEqual(expected);
  });

  it.each(['не знаю', 'later', 'order 12345', 'позвоните мне завтра'])(
    'finds nothing in %s (no phrase is taken for a name, no short number for a phone)',
    (text) => {
      expect(contactDetailsIn(text)).toEqual({});
    },
  );
});

describe('contactFieldErrors', () => {
  it.each([
    [{}, ['body.fields']],
    [{ email: 'nope' }, ['body.fields.email']],
    [{ phone: 'call me' }, ['body.fields.phone']],
    [{ name: '' }, ['body.fields', 'body.fields.name']],
    [{ name: 'Ann', email: 'a@b.co', phone: '+7 900 000-00-00' }, []],
  ])('%j → %j', (fields, fields_) => {
    expect(contactFieldErrors(fields, 'body.fields').map((e) => e.field)).toEqual(fields_);
  });
});
