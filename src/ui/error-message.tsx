import type { ErrorInfo } from '../shared/errors.ts';
import { nextStep } from './error-text.ts';

export function ErrorMessage({ error, testId }: { error: ErrorInfo; testId: string }) {
  return (
    <div className="error" role="alert" data-testid={testId} data-code={error.code}>
      <p className="error-what">{error.message}</p>
      <p className="error-next">{nextStep(error)}</p>
    </div>
  );
}
