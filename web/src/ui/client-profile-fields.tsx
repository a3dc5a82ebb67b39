import type { FieldError } from '@openlines/contract';
import { useRef, useState } from 'react';
import { client } from '../lib/api';
import { useT } from '../lib/i18n';
import { isInlineImage, safeUrl } from '../lib/safe-url';
import { ErrorNotice } from './error-notice';
import { Field } from './field';

/**
 * The name and photo an operator is shown to clients under, with a preview of what a client
 * sees: the photo, or the initial when there is none or it does not load. Empty fields mean the
 * profile's name and photo. Used in "My profile" and in Administration → Users.
 */
export function ClientProfileFields({
  profileName,
  name,
  avatarUrl,
  onName,
  onAvatarUrl,
  errors,
}: {
  profileName: string;
  name: string;
  avatarUrl: string;
  onName: (value: string) => void;
  onAvatarUrl: (value: string) => void;
  errors: Record<string, FieldError[]>;
}) {
  const t = useT();
  const shownName = name.trim() || profileName;
  const photo = /^https?:\/\//i.test(avatarUrl.trim()) ? safeUrl(avatarUrl.trim()) : null;
  const [broken, setBroken] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState<unknown>(null);

  /** An image from the computer goes through the files upload; its link becomes the photo URL. */
  async function upload(file: File | undefined) {
    if (!file) return;
    setUploadError(null);
    if (!isInlineImage(file.type)) {
      setUploadError(new Error(t('clientProfile.notImage')));
      return;
    }
    setUploading(true);
    try {
      onAvatarUrl((await client.files.upload(file, file.name)).url);
    } catch (failure) {
      setUploadError(failure);
    } finally {
      setUploading(false);
      if (fileInput.current) fileInput.current.value = '';
    }
  }

  return (
    <fieldset className="settings-group client-profile">
      <legend>{t('clientProfile.title')}</legend>
      <p className="field-hint">{t('clientProfile.hint')}</p>
      <Field label={t('clientProfile.name')} hint={t('clientProfile.nameHint')} errors={errors.clientName}>
        {(props) => (
          <input
            {...props}
            value={name}
            maxLength={200}
            placeholder={profileName}
            onChange={(event) => onName(event.target.value)}
          />
        )}
      </Field>
      <Field
        label={t('clientProfile.photo')}
        hint={t('clientProfile.photoHint')}
        errors={errors.clientAvatarUrl}
      >
        {(props) => (
          <input
            {...props}
            type="url"
            value={avatarUrl}
            placeholder="https://"
            onChange={(event) => onAvatarUrl(event.target.value)}
          />
        )}
      </Field>
      <div className="client-upload">
        <input
          ref={fileInput}
          type="file"
          accept="image/png,image/jpeg,image/gif,image/webp"
          className="visually-hidden"
          aria-label={t('clientProfile.upload')}
          onChange={(event) => void upload(event.target.files?.[0])}
        />
        <button type="button" disabled={uploading} onClick={() => fileInput.current?.click()}>
          {uploading ? t('composer.uploading') : t('clientProfile.upload')}
        </button>
      </div>
      {uploadError ? <ErrorNotice error={uploadError} /> : null}
      <div className="client-preview">
        {photo && broken !== photo ? (
          <img className="client-face" src={photo} alt="" onError={() => setBroken(photo)} />
        ) : (
          <span className="client-face initial" aria-hidden="true">
            {shownName.slice(0, 1).toUpperCase()}
          </span>
        )}
        <span>{t('clientProfile.previewAs', { name: shownName })}</span>
      </div>
    </fieldset>
  );
}
