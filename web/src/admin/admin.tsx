import type { Me } from '@openlines/contract';
import { useEffect } from 'react';
import { useT } from '../lib/i18n';
import { linkClick, matchPath, navigate } from '../lib/router';
import { AuditScreen } from './audit';
import { BlockedClientsScreen } from './blocked-clients';
import { BotsScreen } from './bots';
import { ChannelsScreen } from './channels';
import { CrmAdapterScreen } from './crm-adapter';
import { DepartmentsScreen } from './departments';
import { IntegrationsScreen } from './integrations';
import { LineEditor } from './line-editor';
import { LinesScreen } from './lines';
import { PipelinesScreen } from './pipelines';
import { PrivacyScreen } from './privacy';
import { QuickAnswersScreen } from './quick-answers';
import { RolesScreen } from './roles';
import { UsersScreen } from './users';
import { WebhooksScreen } from './webhooks';

type Section =
  | 'lines'
  | 'channels'
  | 'pipelines'
  | 'users'
  | 'departments'
  | 'roles'
  | 'quick-answers'
  | 'audit'
  | 'privacy'
  | 'blocked'
  | 'webhooks'
  | 'bots'
  | 'integrations'
  | 'crm-adapter';

function sectionsFor(me: Me): Section[] {
  const { manageLines, manageUsers, manageQuickAnswers, managePersonalData, manageIntegrations } =
    me.permissions;
  return [
    ...(manageLines ? (['lines', 'channels'] as const) : []),
    ...(manageLines && me.permissions.crm !== 'none' ? (['pipelines'] as const) : []),
    ...(manageUsers ? (['users', 'departments', 'roles'] as const) : []),
    ...(manageQuickAnswers ? (['quick-answers'] as const) : []),
    ...(managePersonalData ? (['audit', 'privacy'] as const) : []),
    ...(me.permissions.supervise ? (['blocked'] as const) : []),
    ...(manageIntegrations ? (['webhooks', 'bots', 'integrations', 'crm-adapter'] as const) : []),
  ];
}

/** Administration (lines, channels, users, roles, quick answers); each screen needs its permission. */
export default function Admin({ me, path }: { me: Me; path: string }) {
  const t = useT();
  const sections = sectionsFor(me);
  const current = (path.split('/')[2] ?? '') as Section | '';
  useEffect(() => {
    if (!current && sections[0]) navigate(`/admin/${sections[0]}`, { replace: true });
  }, [current, sections]);
  const lineId = matchPath('/admin/lines/:id', path)?.id;
  const allowed = current !== '' && sections.includes(current);
  return (
    <div className="admin">
      <nav className="admin-nav" aria-label={t('admin.title')}>
        <ul>
          {sections.map((section) => (
            <li key={section}>
              <a
                href={`/admin/${section}`}
                onClick={linkClick(`/admin/${section}`)}
                aria-current={current === section ? 'page' : undefined}
              >
                {t(`admin.nav.${section}`)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div className="admin-content">
        {current && !allowed ? (
          <p role="alert">{t('admin.noAccess')}</p>
        ) : current === 'lines' ? (
          lineId ? (
            <LineEditor key={lineId} lineId={lineId} />
          ) : (
            <LinesScreen />
          )
        ) : current === 'channels' ? (
          <ChannelsScreen />
        ) : current === 'pipelines' ? (
          <PipelinesScreen />
        ) : current === 'users' ? (
          <UsersScreen me={me} />
        ) : current === 'departments' ? (
          <DepartmentsScreen />
        ) : current === 'roles' ? (
          <RolesScreen />
        ) : current === 'quick-answers' ? (
          <QuickAnswersScreen canShared />
        ) : current === 'audit' ? (
          <AuditScreen />
        ) : current === 'webhooks' ? (
          <WebhooksScreen />
        ) : current === 'privacy' ? (
          <PrivacyScreen />
        ) : current === 'blocked' ? (
          <BlockedClientsScreen />
        ) : current === 'bots' ? (
          <BotsScreen />
        ) : current === 'integrations' ? (
          <IntegrationsScreen />
        ) : current === 'crm-adapter' ? (
          <CrmAdapterScreen />
        ) : null}
      </div>
    </div>
  );
}
