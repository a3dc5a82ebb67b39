import { useEffect } from 'react';
import { useT } from '../lib/i18n';
import { matchPath } from '../lib/router';
import { DialogList } from './dialog-list';
import { DialogView } from './dialog-view';
import { useStore } from './store-context';

/** The operator workspace (OP-1..OP-4): the list of dialogs beside the open one. */
export function Workspace({ path }: { path: string }) {
  const store = useStore();
  const t = useT();
  const openId = matchPath('/dialogs/:id', path)?.id ?? null;
  useEffect(() => {
    void store.open(openId);
  }, [store, openId]);
  return (
    <div className={`workspace${openId ? ' workspace-open' : ''}`}>
      <DialogList openId={openId} />
      {openId ? (
        <DialogView key={openId} dialogId={openId} />
      ) : (
        <section className="dialog-empty" aria-label={t('dialog.none')}>
          <p>{t('dialog.pick')}</p>
        </section>
      )}
    </div>
  );
}
