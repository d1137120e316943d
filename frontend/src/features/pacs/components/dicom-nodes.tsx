import { Link } from 'react-router';

import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import { paths } from '@/config/paths';
import type { DicomNodes as DicomNodesData } from '@/types/api';
import { formatDateTime } from '@/utils/format';

import { useDicomNodes } from '../api/get-dicom-nodes';

const NODE_NAMES = { listener: 'This service (DICOM listener)', pacs: 'PACS (results go here)' } as const;

function NodesTable({ nodes }: { nodes: DicomNodesData['nodes'] }) {
  return (
    <div className="table-scroll">
      <table aria-label="DICOM nodes">
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">AE title</th>
            <th scope="col">Address</th>
            <th scope="col">Last contact</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((node) => (
            <tr key={node.kind}>
              <th scope="row">{NODE_NAMES[node.kind]}</th>
              <td>{node.configured ? node.ae_title : 'Not configured'}</td>
              <td>{node.configured ? `${node.host}:${node.port}` : '—'}</td>
              <td>{formatDateTime(node.last_contact)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function QueueTable({ queue }: { queue: DicomNodesData['queue'] }) {
  if (queue.length === 0) return <p className="muted">Every received study's results have been sent.</p>;
  return (
    <div className="table-scroll">
      <table aria-label="Results not sent yet">
        <thead>
          <tr>
            <th scope="col">Study</th>
            <th scope="col">Received</th>
            <th scope="col">From</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {queue.map((item) => (
            <tr key={item.study_id}>
              <th scope="row">
                <Link to={paths.study(item.study_id)}>{item.study_id.slice(0, 8)}</Link>
              </th>
              <td>{formatDateTime(item.received_at)}</td>
              <td>{item.calling_ae_title || item.protocol}</td>
              <td>{item.filing.status_display}</td>
              <td>{item.filing.attempts}</td>
              <td>{item.filing.message || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Admins: the DICOM nodes, when each was last in contact, and the send queue with its failures. */
export function DicomNodes() {
  const { data, error, isPending } = useDicomNodes();
  if (isPending) return <Loading />;
  if (error) return <ErrorMessage error={error} />;
  return (
    <div className="dicom-nodes">
      <section className="card" aria-labelledby="dicom-nodes-heading">
        <h2 id="dicom-nodes-heading">DICOM nodes</h2>
        <NodesTable nodes={data.nodes} />
      </section>
      <section className="card" aria-labelledby="send-queue-heading">
        <h2 id="send-queue-heading">Results not sent yet</h2>
        <QueueTable queue={data.queue} />
      </section>
    </div>
  );
}
