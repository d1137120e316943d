import { Link } from 'react-router';

import { paths } from '@/config/paths';
import { useDocumentTitle } from '@/hooks/use-document-title';

export function NotFoundRoute() {
  useDocumentTitle('Page not found');
  return (
    <div>
      <h1>Page not found</h1>
      <p>
        <Link to={paths.studies}>Go to my studies</Link>
      </p>
    </div>
  );
}
