/** Closing needs a classification (and a reason where Sentinel has them): one dialog for the queue and the page. */
import { useState } from 'react';
import { CLASSIFICATION_REASONS, type Classification, type IncidentPatch } from '../../api/types.js';
import { words } from '../../data/format.js';
import { Field, Modal } from '../../ui/components.js';

export function CloseDialog({
  count,
  onClose,
  onConfirm,
}: {
  count: number;
  onClose: () => void;
  onConfirm: (patch: IncidentPatch) => void;
}) {
  const [classification, setClassification] = useState<Classification>('TruePositive');
  const reasons = CLASSIFICATION_REASONS[classification];
  const [reason, setReason] = useState<string>(reasons[0] ?? '');
  const [comment, setComment] = useState('');
  return (
    <Modal
      title={count === 1 ? 'Close incident' : `Close ${count} incidents`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="btn primary"
            onClick={() =>
              onConfirm({
                status: 'Closed',
                classification,
                classificationReason: reason || null,
                classificationComment: comment.trim() || null,
              })
            }
          >
            Close incident{count === 1 ? '' : 's'}
          </button>
        </>
      }
    >
      <div className="stack">
        <Field label="Classification">
          <select
            className="select"
            value={classification}
            aria-label="Classification"
            onChange={(e) => {
              const c = e.target.value as Classification;
              setClassification(c);
              setReason(CLASSIFICATION_REASONS[c][0] ?? '');
            }}
          >
            {(Object.keys(CLASSIFICATION_REASONS) as Classification[]).map((c) => (
              <option key={c} value={c}>
                {words(c)}
              </option>
            ))}
          </select>
        </Field>
        {reasons.length > 0 && (
          <Field label="Reason">
            <select className="select" value={reason} onChange={(e) => setReason(e.target.value)}>
              {reasons.map((r) => (
                <option key={r} value={r}>
                  {words(r)}
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field label="Comment" hint="optional">
          <textarea
            className="input"
            rows={3}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            placeholder="What was found, what was done"
          />
        </Field>
      </div>
    </Modal>
  );
}
