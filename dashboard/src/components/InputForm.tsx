import { type FormEvent, type ReactNode, useId, useMemo, useState } from 'react';
import { ApiRequestError, api } from '../api/client.js';
import type { Wait } from '../api/types.js';
import {
  buildValue,
  type FieldSpec,
  type FieldValue,
  formFields,
  initialValue,
  issuesByField,
} from '../waits/schemaForm.js';

/**
 * The form that answers one pending input of a run: fields drawn from the input's JSON Schema
 * (waits/schemaForm.ts), sent to `POST /api/runs/:id/inputs/:name`. A value the schema refuses
 * (422) leaves the run as it was; its issues are shown beside their fields.
 */
export function InputForm(props: { runId: string; wait: Wait; onAnswered: () => void }) {
  const { runId, wait, onAnswered } = props;
  const name = wait.name ?? '';
  const fields = useMemo(() => formFields(wait.request?.schema ?? null), [wait.request]);
  const [values, setValues] = useState<Record<string, FieldValue>>(() =>
    Object.fromEntries(fields.map((f) => [f.name, initialValue(f)])),
  );
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [formErrors, setFormErrors] = useState<string[]>([]);
  const [isBusy, setIsBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const built = buildValue(fields, values);
    if (built.errors) {
      setFieldErrors(Object.fromEntries(Object.entries(built.errors).map(([k, v]) => [k, [v]])));
      setFormErrors([]);
      return;
    }
    setIsBusy(true);
    setFieldErrors({});
    setFormErrors([]);
    try {
      await api.provideInput(runId, name, built.value);
      onAnswered();
    } catch (reason) {
      if (reason instanceof ApiRequestError && reason.issues.length) {
        const { byField, general } = issuesByField(fields, reason.issues);
        setFieldErrors(byField);
        setFormErrors([
          reason.status === 422 ? 'The value does not fit: nothing was changed.' : reason.message,
          ...general,
        ]);
      } else {
        setFormErrors([reason instanceof Error ? reason.message : String(reason)]);
      }
    } finally {
      setIsBusy(false);
    }
  };

  return (
    <form className="input-form" aria-label={`Answer input ${name}`} onSubmit={submit} noValidate>
      {formErrors.length > 0 && (
        <div className="banner banner--error" role="alert">
          {formErrors.map((message) => (
            <p key={message}>{message}</p>
          ))}
        </div>
      )}
      {fields.map((field) => (
        <Field
          key={field.name}
          field={field}
          value={values[field.name] ?? initialValue(field)}
          errors={fieldErrors[field.name] ?? []}
          onChange={(value) => setValues((old) => ({ ...old, [field.name]: value }))}
        />
      ))}
      <div className="input-form__actions">
        <button type="submit" className="button--primary" disabled={isBusy}>
          {isBusy ? 'Sending…' : `Send ${name}`}
        </button>
      </div>
    </form>
  );
}

function Field(props: {
  field: FieldSpec;
  value: FieldValue;
  errors: readonly string[];
  onChange: (value: FieldValue) => void;
}) {
  const { field, value, errors, onChange } = props;
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [field.description ? hintId : '', errors.length ? errorId : ''].filter(Boolean).join(' ');
  const common = {
    id,
    'aria-invalid': errors.length > 0,
    'aria-describedby': describedBy || undefined,
    'aria-required': field.isRequired,
  };
  const text = typeof value === 'string' ? value : '';
  let control: ReactNode;
  switch (field.kind) {
    case 'boolean':
      control = (
        <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
      );
      break;
    case 'enum':
      control = (
        <select {...common} value={text} onChange={(e) => onChange(e.target.value)}>
          <option value="">{field.isRequired ? 'Choose…' : '—'}</option>
          {field.options.map((option, i) => (
            <option key={String(i)} value={String(i)}>
              {typeof option === 'string' ? option : JSON.stringify(option)}
            </option>
          ))}
        </select>
      );
      break;
    case 'number':
    case 'integer':
      control = (
        <input
          {...common}
          type="number"
          step={field.kind === 'integer' ? 1 : 'any'}
          value={text}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    case 'string':
      control = <input {...common} type="text" value={text} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'json':
      control = (
        <textarea
          {...common}
          rows={field.name === '' ? 6 : 3}
          spellCheck={false}
          placeholder="JSON"
          value={text}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
  }
  const isCheckbox = field.kind === 'boolean';
  return (
    <div className={`field${isCheckbox ? ' field--checkbox' : ''}`}>
      <label htmlFor={id}>
        {field.label}
        {field.kind === 'json' && field.name !== '' ? ' (JSON)' : ''}
        {field.isRequired && field.name !== '' && !isCheckbox ? <span className="muted"> (required)</span> : null}
      </label>
      {control}
      {field.description && (
        <span id={hintId} className="muted field__hint">
          {field.description}
        </span>
      )}
      {errors.length > 0 && (
        <span id={errorId} className="field__error">
          {errors.join('; ')}
        </span>
      )}
    </div>
  );
}
