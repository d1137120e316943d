type StudiesPaginationProps = {
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPageChange: (page: number) => void;
};

export function StudiesPagination({ page, hasPrevious, hasNext, onPageChange }: StudiesPaginationProps) {
  if (!hasPrevious && !hasNext) return null;
  return (
    <nav className="pagination" aria-label="Studies pages">
      <button type="button" className="button-secondary" disabled={!hasPrevious} onClick={() => onPageChange(page - 1)}>
        Previous
      </button>
      <span>Page {page}</span>
      <button type="button" className="button-secondary" disabled={!hasNext} onClick={() => onPageChange(page + 1)}>
        Next
      </button>
    </nav>
  );
}
