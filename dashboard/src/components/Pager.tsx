/** Previous / Next over cursor pages; the server pages, so any list stays one request per page. */
export function Pager(props: {
  label: string;
  pageIndex: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  summary?: string | undefined;
}) {
  return (
    <nav className="pager" aria-label={props.label}>
      <button type="button" onClick={props.onPrevious} disabled={!props.hasPrevious}>
        Previous
      </button>
      <span className="pager__where">
        Page {props.pageIndex + 1}
        {props.summary ? ` · ${props.summary}` : ''}
      </span>
      <button type="button" onClick={props.onNext} disabled={!props.hasNext}>
        Next
      </button>
    </nav>
  );
}
