import type { Locale } from '../lib/catalogue';

// Labels of the line settings form, per field path, in English and Russian. A field of the schema
// without a label here fails a unit test (settings-labels.test.ts), so the form never shows raw keys.

type Text = readonly [en: string, ru: string];

export const SECTION_LABELS: Record<string, Text> = {
  queue: ['Queue and routing', 'Очередь и распределение'],
  workingHours: ['Working hours', 'Рабочее время'],
  agreement: ['Agreements', 'Соглашения'],
  automaticActions: ['Automatic actions', 'Автоматические действия'],
  rating: ['Quality rating', 'Оценка качества'],
  bot: ['Chatbots', 'Чат-боты'],
  kpi: ['KPI', 'KPI'],
  crm: ['CRM', 'CRM'],
  other: ['Other', 'Прочее'],
};

export const GROUP_LABELS: Record<string, Text> = {
  'queue.operatorData': ['Operator shown to the client', 'Данные оператора для клиента'],
  'workingHours.widget': ['Website widget schedule', 'Расписание виджета на сайте'],
  'automaticActions.welcome': ['Welcome message', 'Приветственное сообщение'],
  'automaticActions.contactForm': ['Contact form', 'Форма контактов'],
  'automaticActions.noAnswer': ['No answer', 'Нет ответа'],
  'automaticActions.close': ['On close', 'При закрытии'],
  'automaticActions.autoClose': ['Auto-close', 'Автозакрытие'],
  'rating.widget': ['Texts in the widget', 'Тексты в виджете'],
  'rating.messenger': ['Texts in messengers', 'Тексты в мессенджерах'],
  'bot.welcomeBot': ['Welcome bot', 'Приветственный бот'],
  'kpi.firstAnswer': ['First answer', 'Первый ответ'],
  'kpi.furtherAnswer': ['Further answers', 'Последующие ответы'],
};

export const FIELD_LABELS: Record<string, Text> = {
  'queue.members': ['Queue members', 'Участники очереди'],
  'queue.distribution': ['Distribution', 'Распределение'],
  'queue.queueTimeSeconds': [
    'Pass to the next operator after (seconds)',
    'Передавать следующему оператору через (секунд)',
  ],
  'queue.noAnswerTimeSeconds': ['No-answer time (seconds)', 'Время без ответа (секунд)'],
  'queue.checkAvailable': ['Only operators who are available', 'Только доступным операторам'],
  'queue.maxChat': [
    'Concurrent dialogs per operator (0 = unlimited)',
    'Одновременных диалогов на оператора (0 — без ограничения)',
  ],
  'queue.typeMaxChat': ['What counts against the limit', 'Что учитывается в ограничении'],
  'queue.watchTyping': ['Operators see what the client is typing', 'Операторы видят, что печатает клиент'],
  'queue.operatorData.mode': ['Show', 'Показывать'],
  'queue.operatorData.replacementName': ['Replacement name', 'Имя для замены'],
  'queue.operatorData.replacementAvatarUrl': ['Replacement photo URL', 'Ссылка на фото для замены'],
  'queue.sessionPriority': [
    'Priority (seconds added to waiting time)',
    'Приоритет (секунд к времени ожидания)',
  ],
  'workingHours.enabled': ['Use working hours', 'Учитывать рабочее время'],
  'workingHours.timeZone': ['Time zone', 'Часовой пояс'],
  'workingHours.weekly': ['Weekly schedule', 'Расписание на неделю'],
  'workingHours.daysOff': ['Days off', 'Выходные дни'],
  'workingHours.holidays': [
    'Holidays (YYYY-MM-DD or MM-DD every year)',
    'Праздники (ГГГГ-ММ-ДД или ММ-ДД ежегодно)',
  ],
  'workingHours.offHoursRule': ['Outside working hours', 'В нерабочее время'],
  'workingHours.offHoursText': ['Off-hours reply', 'Ответ в нерабочее время'],
  'workingHours.widget.mode': ['Widget schedule', 'Расписание виджета'],
  'workingHours.widget.custom': ['Widget’s own schedule', 'Собственное расписание виджета'],
  'workingHours.widget.whenClosed': ['When the widget is closed', 'Когда виджет не работает'],
  'agreement.required': [
    'Ask for consent to process personal data (152-FZ)',
    'Запрашивать согласие на обработку персональных данных (152-ФЗ)',
  ],
  'agreement.text': ['Consent text', 'Текст согласия'],
  'automaticActions.welcome.enabled': ['Send a welcome message', 'Отправлять приветствие'],
  'automaticActions.welcome.text': ['Welcome text', 'Текст приветствия'],
  'automaticActions.welcome.eachSession': ['On every new session', 'В каждой новой сессии'],
  'automaticActions.contactForm.enabled': ['Offer a contact form', 'Предлагать форму контактов'],
  'automaticActions.contactForm.when': ['When', 'Когда'],
  'automaticActions.contactForm.fields': ['Fields', 'Поля'],
  'automaticActions.noAnswer.rule': ['Action', 'Действие'],
  'automaticActions.noAnswer.text': ['Text', 'Текст'],
  'automaticActions.noAnswer.botId': [
    'Bot (when the action is “hand to a bot”)',
    'Бот (для действия «передать боту»)',
  ],
  'automaticActions.noAnswer.notifyOperators': [
    'Also notify the line’s operators',
    'Также уведомлять операторов линии',
  ],
  'automaticActions.close.rule': ['Action', 'Действие'],
  'automaticActions.close.text': ['Text', 'Текст'],
  'automaticActions.autoClose.rule': ['Action', 'Действие'],
  'automaticActions.autoClose.timeSeconds': [
    'Close after the client is silent for (seconds)',
    'Закрывать, если клиент молчит (секунд)',
  ],
  'automaticActions.autoClose.text': ['Text', 'Текст'],
  'automaticActions.perChannelKind': ['Texts per channel kind', 'Тексты для типов каналов'],
  'rating.enabled': ['Ask the client to rate', 'Запрашивать оценку у клиента'],
  'rating.when': ['When to ask', 'Когда запрашивать'],
  'rating.delaySeconds': ['Delay (seconds)', 'Задержка (секунд)'],
  'rating.allowBeforeFinish': ['Allow rating before the end', 'Разрешить оценку до завершения'],
  'rating.closeAfterRating': ['Close the session once rated', 'Закрывать сессию после оценки'],
  'rating.timeLimitSeconds': [
    'Accept ratings for (seconds, 0 = always)',
    'Принимать оценку в течение (секунд, 0 — всегда)',
  ],
  'rating.widget.question': ['Question', 'Вопрос'],
  'rating.widget.like': ['Reply to a positive rating', 'Ответ на положительную оценку'],
  'rating.widget.dislike': ['Reply to a negative rating', 'Ответ на отрицательную оценку'],
  'rating.messenger.question': ['Question', 'Вопрос'],
  'rating.messenger.like': ['Reply to a positive rating', 'Ответ на положительную оценку'],
  'rating.messenger.dislike': ['Reply to a negative rating', 'Ответ на отрицательную оценку'],
  'bot.welcomeBot.enabled': ['A bot answers first', 'Бот отвечает первым'],
  'bot.welcomeBot.botId': ['Bot', 'Бот'],
  'bot.welcomeBot.join': ['Bot joins', 'Бот подключается'],
  'bot.welcomeBot.timeSeconds': [
    'The bot’s time (seconds, 0 = until the bot or the client asks for an operator)',
    'Время бота (секунд, 0 — пока бот или клиент не попросит оператора)',
  ],
  'bot.welcomeBot.whenLeaving': ['When the bot’s time is up', 'Когда время бота истекло'],
  'kpi.firstAnswer.targetSeconds': ['Target (seconds, 0 = none)', 'Норматив (секунд, 0 — нет)'],
  'kpi.firstAnswer.alert': ['Notify when missed', 'Уведомлять о нарушении'],
  'kpi.firstAnswer.recipients': ['Also notify', 'Также уведомлять'],
  'kpi.firstAnswer.messageText': ['Message (#OPERATOR#, #DIALOG#)', 'Сообщение (#OPERATOR#, #DIALOG#)'],
  'kpi.furtherAnswer.targetSeconds': ['Target (seconds, 0 = none)', 'Норматив (секунд, 0 — нет)'],
  'kpi.furtherAnswer.alert': ['Notify when missed', 'Уведомлять о нарушении'],
  'kpi.furtherAnswer.recipients': ['Also notify', 'Также уведомлять'],
  'kpi.furtherAnswer.messageText': ['Message (#OPERATOR#, #DIALOG#)', 'Сообщение (#OPERATOR#, #DIALOG#)'],
  'crm.enabled': ['Look the client up in the CRM', 'Искать клиента в CRM'],
  'crm.create': ['For a new client, create', 'Для нового клиента создавать'],
  'crm.forwardToResponsible': [
    'Send known clients to their responsible operator',
    'Направлять известных клиентов ответственному',
  ],
  'crm.source': ['Source (“create” = named after the line)', 'Источник («create» — по имени линии)'],
  'crm.changeResponsibleOnTransfer': [
    'A transfer changes the responsible person',
    'Передача меняет ответственного',
  ],
  'crm.responsibleUserId': ['Responsible for new CRM records', 'Ответственный за новые записи CRM'],
  'other.saveHistory': ['Keep message history after closing', 'Сохранять историю после закрытия'],
  'other.confirmClose': [
    'Confirm before an operator closes a dialog',
    'Подтверждать закрытие диалога оператором',
  ],
  'other.language': ['Language of messages to clients', 'Язык сообщений клиентам'],
  'other.retentionDays': [
    "Erase messages and files older than (days, 0 = the account's setting)",
    'Удалять сообщения и файлы старше (дней, 0 — как в настройках компании)',
  ],
};

export const OPTION_LABELS: Record<string, Text> = {
  evenly: ['Evenly (least loaded first)', 'Равномерно (наименее загруженным)'],
  strictly: ['Strictly in queue order', 'Строго по очереди'],
  all: ['To all at once', 'Всем одновременно'],
  // What core/session-machine countsTowardLimit counts for each TYPE_MAX_CHAT value.
  answered_new: ['Sessions not yet answered', 'Неотвеченные сессии'],
  answered: [
    'Sessions not yet answered, or where the client wrote again',
    'Неотвеченные сессии и сессии, где клиент написал снова',
  ],
  closed: ['Every open session, answered ones included', 'Все открытые сессии, включая отвеченные'],
  profile: ['The operator’s profile', 'Профиль оператора'],
  replaced: ['A replacement name and photo', 'Имя и фото для замены'],
  hidden: ['Nothing', 'Ничего'],
  text: ['Send the text', 'Отправить текст'],
  none: ['Nothing', 'Ничего'],
  bot: ['Hand to a bot', 'Передать боту'],
  same: ['Same as the line', 'Как у линии'],
  always: ['Always', 'Всегда'],
  custom: ['Its own schedule', 'Собственное расписание'],
  hide: ['Hide the widget', 'Скрывать виджет'],
  offline_form: ['Show an offline form', 'Показывать форму'],
  first_message: ['On the first message', 'При первом сообщении'],
  no_answer: ['When nobody answers', 'Когда нет ответа'],
  off_hours: ['Outside working hours', 'В нерабочее время'],
  name: ['Name', 'Имя'],
  phone: ['Phone', 'Телефон'],
  email: ['E-mail', 'E-mail'],
  on_close: ['When the session closes', 'При закрытии сессии'],
  after_delay: ['After a delay', 'С задержкой'],
  first: ['First session only', 'Только в первой сессии'],
  queue: ['On transfer to the queue', 'При передаче в очередь'],
  close: ['When the session closes', 'При закрытии сессии'],
  lead: ['A lead', 'Лид'],
  deal: ['A deal', 'Сделку'],
  ru: ['Russian', 'Русский'],
  en: ['English', 'Английский'],
  mon: ['Monday', 'Понедельник'],
  tue: ['Tuesday', 'Вторник'],
  wed: ['Wednesday', 'Среда'],
  thu: ['Thursday', 'Четверг'],
  fri: ['Friday', 'Пятница'],
  sat: ['Saturday', 'Суббота'],
  sun: ['Sunday', 'Воскресенье'],
};

/** `'bot.welcomeBot.join'` + `'always'`: the same value means different things in different fields. */
const OPTION_OVERRIDES: Record<string, Text> = {
  'bot.welcomeBot.join=always': ['Every session', 'В каждой сессии'],
  'crm.create=none': ['Nothing (operators create by hand)', 'Ничего (оператор создаёт вручную)'],
  'bot.welcomeBot.whenLeaving=queue': ['Hand to the operators’ queue', 'Передать в очередь операторов'],
  'bot.welcomeBot.whenLeaving=close': ['Close the session', 'Закрыть сессию'],
};

export const HINTS: Record<string, Text> = {
  'queue.checkAvailable': [
    'Online, not absent and not deactivated. Dialogs nobody can take wait in the queue.',
    'В сети, не в отсутствии и не уволены. Диалоги, которые никто не может принять, ждут в очереди.',
  ],
  'queue.typeMaxChat': [
    'Applies to “evenly” and “strictly”.',
    'Для режимов «равномерно» и «строго по очереди».',
  ],
  'workingHours.timeZone': ['An IANA name such as Europe/Moscow.', 'Название IANA, например Europe/Moscow.'],
  'workingHours.weekly': [
    'Intervals never cross midnight: end at 24:00 and continue the next day from 00:00.',
    'Интервал не переходит через полночь: закончите в 24:00 и продолжите со следующего дня с 00:00.',
  ],
  'bot.welcomeBot.timeSeconds': [
    'The bot’s sessions are not offered to operators; its time is not counted in answer times.',
    'Сессии бота не предлагаются операторам; его время не входит во время ответа.',
  ],
  'automaticActions.perChannelKind': [
    'Replace the line’s texts for one kind of channel (e.g. a shorter welcome in Telegram).',
    'Заменяют тексты линии для одного типа каналов (например, короткое приветствие в Telegram).',
  ],
};

function pick(text: Text | undefined, locale: Locale): string | undefined {
  return text ? text[locale === 'ru' ? 1 : 0] : undefined;
}

function humanize(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

export function sectionLabel(id: string, locale: Locale): string {
  return pick(SECTION_LABELS[id], locale) ?? humanize(id);
}

export function fieldLabel(path: string, locale: Locale): string {
  return pick(FIELD_LABELS[path] ?? GROUP_LABELS[path], locale) ?? humanize(path.split('.').at(-1) ?? path);
}

export function optionLabel(path: string, value: string, locale: Locale): string {
  return pick(OPTION_OVERRIDES[`${path}=${value}`] ?? OPTION_LABELS[value], locale) ?? value;
}

export function hintFor(path: string, locale: Locale): string | undefined {
  return pick(HINTS[path], locale);
}
