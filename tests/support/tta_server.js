// telegram-test-api (npm), an independent Bot API emulator, behind a thin front that makes
// it answer like the real Bot API where it departs from it, and that can refuse calls with
// flood waits (429) the way Telegram does. Used by tests/telegram/test_telegram_emulator.py;
// the package is not vendored: the test skips when `node` or the package is missing.
//
// Usage: node tta_server.js '{"port": 9100, "patch": true}'  ("patch": "calls" fixes getMe and
// the menu calls only, keeping the emulator's own message answers)
//
// Order of decisions for one Bot API call POST /bot<token>/<method>:
// 1. /_control/... is the test's channel: "storm" scripts 429s, "garble" scripts unreadable
//    successes, "log" returns every call with its time and answer, "reset" clears both;
// 2. sendMessage / editMessageText to a chat (or any chat) under a flood wait answer 429
//    with the time left; one arriving more than the storm's grace (GRACE_MS unless it says)
//    after the wait was announced is a violation (calls already in flight then are not);
// 3. a scripted storm answers 429 with parameters.retry_after and starts a wait;
// 4. the emulator answers; with "patch", its answers are made real: getMe has is_bot, a sent
//    message has its date in seconds, a bot user and a typed chat, editMessageText returns
//    the message (the emulator answers null), a callback query has its chat_instance, and
//    the menu/description calls return true (unless "menu": false: then the emulator
//    answers them 500, as it does every method it does not know);
//    without "patch" the emulator's own answers go out (a millisecond date, the request's
//    fields echoed back: a 200 that python-telegram-bot cannot read as a Message);
// 5. a scripted garble replaces a successful answer (the message was stored) by
//    {"ok": true, "result": true}.
'use strict';

const path = require('path');
const express = require(require.resolve('express', {
  paths: [path.dirname(require.resolve('telegram-test-api'))],
}));
const TelegramServer = require('telegram-test-api');

const options = JSON.parse(process.argv[2] || '{}');
const GRACE_MS = options.grace_ms ?? 150;
const SENDS = new Set(['sendMessage', 'editMessageText']);
const BOT = { id: 1000001, is_bot: true, first_name: 'Tracker', username: 'tracker_bot' };

const emulator = new TelegramServer({ port: 0, host: '127.0.0.1' });
const state = { storms: [], garbles: [], holds: {}, log: [] };

function chatOf(body) {
  return body.chat_id === undefined ? null : String(body.chat_id);
}

function holdOf(chat, now) {
  const ends = [state.holds[chat], state.holds['*']].filter((h) => h && h.until > now);
  if (!ends.length) return null;
  return ends.reduce((a, b) => (a.until >= b.until ? a : b));
}

function tooMany(res, seconds) {
  res.status(429).json({
    ok: false, error_code: 429,
    description: `Too Many Requests: retry after ${seconds}`,
    parameters: { retry_after: seconds },
  });
}

function realMessage(result, chat) {
  const msg = {
    message_id: result.message_id,
    date: Math.floor(Date.now() / 1000),
    chat: { id: Number(chat), type: Number(chat) < 0 ? 'supergroup' : 'private',
      ...(Number(chat) < 0 ? { title: 'Group' } : { first_name: 'Reader' }) },
    from: BOT,
    text: typeof result.text === 'string' ? result.text : '',
  };
  if (result.reply_markup && typeof result.reply_markup === 'object') {
    msg.reply_markup = result.reply_markup;
  }
  return msg;
}

const front = express();
front.use(express.json());
front.use(express.urlencoded({ extended: true }));

front.post('/_control/storm', (req, res) => {
  // {chat_id: "42" | null (any chat: a bot-wide wait), count, retry_after, grace_ms}
  state.storms.push({ chat: req.body.chat_id == null ? null : String(req.body.chat_id),
    left: Number(req.body.count ?? 1), retry_after: Number(req.body.retry_after ?? 2),
    global: req.body.chat_id == null, grace: Number(req.body.grace_ms ?? GRACE_MS) });
  res.json({ ok: true });
});
front.post('/_control/garble', (req, res) => {
  state.garbles.push({ chat: String(req.body.chat_id), left: Number(req.body.count ?? 1) });
  res.json({ ok: true });
});
front.get('/_control/log', (_req, res) => res.json(state.log));
front.post('/_control/reset', (_req, res) => {
  state.storms = []; state.garbles = []; state.holds = {}; state.log = [];
  res.json({ ok: true });
});

front.all('/bot:token/:method', (req, res, next) => {
  const { method } = req.params;
  const chat = chatOf(req.body || {});
  const now = Date.now();
  const entry = { method, chat, at: now / 1000, status: 200, violation: false };
  state.log.push(entry);
  if (SENDS.has(method) && chat !== null) {
    const hold = holdOf(chat, now);
    if (hold) {
      entry.status = 429;
      entry.violation = now - hold.given > hold.grace;
      tooMany(res, Math.max(1, Math.ceil((hold.until - now) / 1000)));
      return;
    }
    const storm = state.storms.find((s) => s.left > 0 && (s.chat === null || s.chat === chat));
    if (storm) {
      storm.left -= 1;
      entry.status = 429;
      state.holds[storm.global ? '*' : chat] = { given: now, grace: storm.grace,
        until: now + storm.retry_after * 1000 };
      tooMany(res, storm.retry_after);
      return;
    }
  }
  if (options.patch) {
    if (method === 'getMe') { res.json({ ok: true, result: BOT }); return; }
    const menu = ['setMyCommands', 'deleteMyCommands', 'setMyDescription',
      'setMyShortDescription'];
    if (method === 'deleteWebhook' || (options.menu !== false && menu.includes(method))) {
      res.json({ ok: true, result: true });
      return;
    }
  }
  const garble = method === 'sendMessage'
    && state.garbles.find((g) => g.left > 0 && g.chat === chat);
  const json = res.json.bind(res);
  res.json = (body) => {
    entry.status = res.statusCode;
    if (garble && body && body.ok) {
      garble.left -= 1;
      return json({ ok: true, result: true });
    }
    if (options.patch === true && body && body.ok && method === 'sendMessage') {
      return json({ ok: true, result: realMessage(body.result, chat) });
    }
    if (options.patch && body && body.ok && method === 'getUpdates') {
      for (const update of body.result) {  // the emulator leaves out a required field
        const query = update.callback_query;
        if (query && query.chat_instance === undefined) {
          query.chat_instance = String(query.message && query.message.chat
            ? query.message.chat.id : query.from.id);
        }
      }
      return json(body);
    }
    if (options.patch === true && body && body.ok && method === 'editMessageText') {
      const stored = emulator.storage.botMessages.find((m) => (
        String(m.messageId) === String(req.body.message_id)
        && String(m.message.chat_id) === chat));
      return json({ ok: true,
        result: realMessage({ message_id: Number(req.body.message_id),
          text: stored ? stored.message.text : req.body.text }, chat) });
    }
    return json(body);
  };
  next();
});
front.use(emulator.webServer);

const server = front.listen(options.port || 0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));  // no waiting for keep-alive connections
