type PaginationProps = {
  page: number;
  count: number;
  pageSize: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPageChange: (page: number) => void;
  label: string;
};

export function Pagination({ page, count, pageSize, hasPrevious, hasNext, onPageChange, label }: PaginationProps) {
  if (!hasPrevious && !hasNext) return null;
  const pages = Math.max(1, Math.ceil(count / pageSize));
  return (
    <nav className="pagination" aria-label={label}>
      <button type="button" className="button-secondary" disabled={!hasPrevious} onClick={() => onPageChange(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {pages}
      </span>
      <button type="button" className="button-secondary" disabled={!hasNext} onClick={() => onPageChange(page + 1)}>
        Next
      </button>
    </nav>
  );
}
