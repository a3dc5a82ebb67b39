import type { Me, Presence } from '@openlines/contract';
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { client, OpenlinesError } from './lib/api';
import { type Translate, useT } from './lib/i18n';
import {
  isMuted,
  type NotificationPermissionState,
  notificationPermission,
  playChime,
  requestNotificationPermission,
  setMuted,
  showNotification,
} from './lib/notify';
import { linkClick, navigate, usePath } from './lib/router';
import { Login } from './login';
import { Signup } from './signup';
import { Badge } from './ui/badge';
import { ErrorNotice } from './ui/error-notice';
import { LanguageSwitch } from './ui/language-switch';
import { MyProfile } from './ui/my-profile';
import { unreadTotal } from './workspace/selectors';
import { type Alert, type Notice, type WorkspaceState, WorkspaceStore } from './workspace/store';
import { StoreContext, useStore, useWorkspace } from './workspace/store-context';
import { Workspace } from './workspace/workspace';

const Admin = lazy(() => import('./admin/admin'));
const Statistics = lazy(() => import('./statistics/statistics'));
const QuickAnswers = lazy(() =>
  import('./admin/quick-answers').then((module) => ({ default: module.QuickAnswersScreen })),
);
const Crm = lazy(() => import('./crm/crm').then((module) => ({ default: module.CrmSection })));

type Session = { state: 'loading' } | { state: 'signed-out' } | { state: 'signed-in'; me: Me };

export function App() {
  const [session, setSession] = useState<Session>({ state: 'loading' });
  const [error, setError] = useState<unknown>(null);
  const t = useT();
  const path = usePath();

  useEffect(() => {
    client.auth.me().then(
      (me) => setSession({ state: 'signed-in', me }),
      (failure) => {
        if (failure instanceof OpenlinesError && failure.status === 401) setSession({ state: 'signed-out' });
        else setError(failure);
      },
    );
  }, []);

  const signedOut = useCallback(() => {
    client.transport.forgetSession();
    setSession({ state: 'signed-out' });
  }, []);

  if (error) {
    return (
      <main className="centered">
        <ErrorNotice error={error} />
        <button type="button" onClick={() => window.location.reload()}>
          {t('common.retry')}
        </button>
      </main>
    );
  }
  if (session.state === 'loading') {
    return (
      <main className="centered" aria-busy="true">
        <p>{t('common.loading')}</p>
      </main>
    );
  }
  if (session.state === 'signed-out') {
    if (path === '/signup') return <Signup />;
    return (
      <Login
        onSignedIn={(me) => {
          // The sign-up link's outcome (?signedUp=1 …) is said once, not kept in the address.
          if (window.location.search) navigate('/', { replace: true });
          setSession({ state: 'signed-in', me });
        }}
      />
    );
  }
  return (
    <Shell
      me={session.me}
      onSignedOut={signedOut}
      onMeChanged={(me) => setSession({ state: 'signed-in', me })}
    />
  );
}

function Shell({
  me,
  onSignedOut,
  onMeChanged,
}: {
  me: Me;
  onSignedOut: () => void;
  onMeChanged: (me: Me) => void;
}) {
  const t = useT();
  const path = usePath();
  const [store] = useState(
    () =>
      new WorkspaceStore(client, me, {
        onSignedOut,
        onAlert: (alert) => alertUser(alert),
      }),
  );
  const [startError, setStartError] = useState<unknown>(null);
  const [profileOpen, setProfileOpen] = useState(false);

  function alertUser(alert: Alert) {
    playChime(alert.kind === 'dialog' ? 'dialog' : 'message');
    const name = alert.kind === 'notice' ? '' : (alert.dialog?.client.name ?? '');
    if (alert.kind === 'notice') {
      showNotification(t('notify.notice'), noticeText(t, alert.notice), `notice:${alert.notice.id}`, () =>
        navigate(alert.notice.href),
      );
      return;
    }
    if (alert.kind === 'dialog') {
      showNotification(t('notify.newDialog'), name, `dialog:${alert.dialog.id}`, () =>
        navigate(`/dialogs/${alert.dialog.id}`),
      );
    } else {
      const text = alert.message.text ?? t('dialog.attachment');
      showNotification(
        t('notify.newMessage', { name }),
        text.slice(0, 200),
        `message:${alert.message.dialogId}`,
        () => navigate(`/dialogs/${alert.message.dialogId}`),
      );
    }
  }

  useEffect(() => {
    store.start().catch((error) => setStartError(error));
    const onVisible = () => {
      if (document.visibilityState === 'visible') store.markRead();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      store.stop();
    };
  }, [store]);

  const canAdmin =
    me.permissions.manageLines ||
    me.permissions.manageUsers ||
    me.permissions.manageQuickAnswers ||
    me.permissions.managePersonalData ||
    me.permissions.manageIntegrations ||
    me.permissions.supervise;
  const inAdmin = path.startsWith('/admin');
  const canStatistics = me.permissions.statistics !== 'none';
  const inStatistics = path === '/statistics' || path.startsWith('/statistics/');
  const canCrm = me.permissions.crm !== 'none';
  const inCrm = path === '/crm' || path.startsWith('/crm/');
  // Every operator keeps personal quick answers here (issue 19); managers of the shared list find
  // both kinds in Administration, so the link is for the others.
  const inQuickAnswers = path === '/quick-answers';
  const quickAnswersLink = !me.permissions.manageQuickAnswers;

  // The shell reads no state itself: what it shows of the store are small components of their own,
  // so an event re-renders them, not the whole page below.
  return (
    <StoreContext.Provider value={store}>
      <RoleWatcher me={me} onMeChanged={onMeChanged} />
      <a className="skip-link" href="#main">
        {t('nav.skip')}
      </a>
      <header className="topbar">
        <span className="brand" aria-hidden="true">
          Openlines
        </span>
        <nav aria-label={t('nav.main')} className="topnav">
          <WorkspaceLink current={!inAdmin && !inStatistics && !inCrm && !inQuickAnswers} />
          {canCrm ? (
            <a href="/crm" onClick={linkClick('/crm')} aria-current={inCrm ? 'page' : undefined}>
              {t('nav.crm')}
            </a>
          ) : null}
          {canStatistics ? (
            <a
              href="/statistics"
              onClick={linkClick('/statistics')}
              aria-current={inStatistics ? 'page' : undefined}
            >
              {t('nav.statistics')}
            </a>
          ) : null}
          {quickAnswersLink ? (
            <a
              href="/quick-answers"
              onClick={linkClick('/quick-answers')}
              aria-current={inQuickAnswers ? 'page' : undefined}
            >
              {t('nav.quickAnswers')}
            </a>
          ) : null}
          {canAdmin ? (
            <a href="/admin" onClick={linkClick('/admin')} aria-current={inAdmin ? 'page' : undefined}>
              {t('nav.admin')}
            </a>
          ) : null}
        </nav>
        <ConnectionBadge />
        <div className="topbar-tools">
          <PresenceSwitch me={me} />
          <NotificationTools />
          <LanguageSwitch />
          <button type="button" className="me" title={me.user.email} onClick={() => setProfileOpen(true)}>
            {me.user.name}
          </button>
          {profileOpen ? (
            <MyProfile me={me} onMeChanged={onMeChanged} onClose={() => setProfileOpen(false)} />
          ) : null}
          <button
            type="button"
            onClick={() => {
              store.stop();
              client.auth.logout().finally(onSignedOut);
            }}
          >
            {t('auth.logout')}
          </button>
        </div>
      </header>
      {startError ? <ErrorNotice error={startError} onDismiss={() => setStartError(null)} /> : null}
      <Notices />
      <main
        id="main"
        className={inAdmin || inStatistics || inQuickAnswers ? 'main main-admin' : 'main'}
        tabIndex={-1}
      >
        {inQuickAnswers ? (
          <Suspense fallback={<p className="padded">{t('common.loading')}</p>}>
            <div className="padded">
              <QuickAnswers canShared={me.permissions.manageQuickAnswers} />
            </div>
          </Suspense>
        ) : inStatistics ? (
          canStatistics ? (
            <Suspense fallback={<p className="padded">{t('common.loading')}</p>}>
              <Statistics me={me} path={path} />
            </Suspense>
          ) : (
            <div className="padded">
              <h1>{t('nav.statistics')}</h1>
              <p role="alert">{t('stats.noAccess')}</p>
            </div>
          )
        ) : inAdmin ? (
          canAdmin ? (
            <Suspense fallback={<p className="padded">{t('common.loading')}</p>}>
              <Admin me={me} path={path} />
            </Suspense>
          ) : (
            <div className="padded">
              <h1>{t('admin.title')}</h1>
              <p role="alert">{t('admin.noAccess')}</p>
            </div>
          )
        ) : inCrm && canCrm ? (
          <Suspense fallback={<p className="padded">{t('common.loading')}</p>}>
            <Crm path={path} />
          </Suspense>
        ) : (
          <Workspace path={path} />
        )}
      </main>
    </StoreContext.Provider>
  );
}

/** My role may change while I work: permissions come from /me again. */
function RoleWatcher({ me, onMeChanged }: { me: Me; onMeChanged: (me: Me) => void }) {
  const roleId = useWorkspace((state) => state.users[me.user.id]?.roleId);
  useEffect(() => {
    if (roleId !== undefined && roleId !== me.user.roleId)
      client.auth.me().then(onMeChanged, () => undefined);
  }, [roleId, me.user.roleId, onMeChanged]);
  return null;
}

/** The link to the workspace, with the number of unread client messages (also in the tab title). */
function WorkspaceLink({ current }: { current: boolean }) {
  const t = useT();
  const unread = useWorkspace(unreadTotal);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Openlines` : 'Openlines';
  }, [unread]);
  return (
    <a href="/" onClick={linkClick('/')} aria-current={current ? 'page' : undefined}>
      {t('nav.workspace')}
      {unread > 0 ? <Badge count={unread} label={t('list.unread', { count: unread })} /> : null}
    </a>
  );
}

const selectConnection = (state: WorkspaceState) => state.connection;
const selectNotices = (state: WorkspaceState) => state.notices;

function ConnectionBadge() {
  const t = useT();
  const state = useWorkspace(selectConnection);
  if (state === 'online') return null;
  return (
    <span className={`connection connection-${state}`} role="status">
      {t(state === 'offline' ? 'connection.offline' : 'connection.reconnecting')}
    </span>
  );
}

function PresenceSwitch({ me }: { me: Me }) {
  const t = useT();
  const presence = useWorkspace((state) => state.users[me.user.id]?.presence) ?? me.user.presence;
  const [error, setError] = useState<unknown>(null);
  return (
    <>
      <label className="presence">
        <span className={`dot dot-${presence}`} aria-hidden="true" />
        <span className="visually-hidden">{t('presence.label')}</span>
        <select
          value={presence}
          onChange={(event) => {
            setError(null);
            client.auth.setPresence(event.target.value as Presence).catch(setError);
          }}
        >
          {(['online', 'away', 'offline'] as const).map((value) => (
            <option key={value} value={value}>
              {t(`presence.${value}`)}
            </option>
          ))}
        </select>
      </label>
      {error ? <ErrorNotice error={error} onDismiss={() => setError(null)} /> : null}
    </>
  );
}

function NotificationTools() {
  const t = useT();
  const [muted, setMutedState] = useState(isMuted);
  const [permission, setPermission] = useState<NotificationPermissionState>(notificationPermission);
  return (
    <>
      <button
        type="button"
        aria-pressed={muted}
        onClick={() => {
          setMuted(!muted);
          setMutedState(!muted);
        }}
        title={muted ? t('notify.unmute') : t('notify.mute')}
      >
        {muted ? t('notify.soundOff') : t('notify.soundOn')}
      </button>
      {permission === 'default' ? (
        <button type="button" onClick={() => requestNotificationPermission().then(setPermission)}>
          {t('notify.enable')}
        </button>
      ) : null}
    </>
  );
}

function noticeText(t: Translate, notice: Notice): string {
  if (notice.kind === 'webhook_paused') return t('webhooks.pausedNotice', { url: notice.text });
  if (notice.kind === 'mention') return t('notice.mentioned', { name: notice.text });
  return notice.text;
}

/** The server's in-app notices (KPI-2, AA-3), each with a link to its dialog (or screen). */
function Notices() {
  const t = useT();
  const store = useStore();
  const notices = useWorkspace(selectNotices);
  return (
    <div className="notices" aria-live="polite">
      {notices.map((notice) => (
        <div key={notice.id} className="notice notice-warn">
          <a
            href={notice.href}
            onClick={(event) => {
              // Followed: it has done its job, and no longer covers the dialog it leads to.
              linkClick(notice.href)(event);
              if (event.defaultPrevented) store.dismissNotice(notice.id);
            }}
          >
            {noticeText(t, notice)}
          </a>
          <button
            type="button"
            className="icon-button"
            aria-label={t('common.dismiss')}
            onClick={() => store.dismissNotice(notice.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
