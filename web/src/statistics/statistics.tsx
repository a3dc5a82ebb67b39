import type { Me } from '@openlines/contract';
import { useT } from '../lib/i18n';
import { linkClick } from '../lib/router';
import { LiveBoard } from './live-board';
import { Reports } from './reports';

/**
 * Statistics (AN-1..AN-3), loaded on demand with its charting library so the workspace does not
 * carry it. What a user sees is what their `statistics` scope allows; the server enforces it.
 */
export default function Statistics({ me, path }: { me: Me; path: string }) {
  const t = useT();
  const live = path === '/statistics/live';
  return (
    <div className="admin">
      <nav className="admin-nav" aria-label={t('nav.statistics')}>
        <ul>
          <li>
            <a href="/statistics" onClick={linkClick('/statistics')} aria-current={live ? undefined : 'page'}>
              {t('stats.reports')}
            </a>
          </li>
          <li>
            <a
              href="/statistics/live"
              onClick={linkClick('/statistics/live')}
              aria-current={live ? 'page' : undefined}
            >
              {t('stats.live')}
            </a>
          </li>
        </ul>
      </nav>
      <div className="admin-content stats-content">{live ? <LiveBoard /> : <Reports me={me} />}</div>
    </div>
  );
}
