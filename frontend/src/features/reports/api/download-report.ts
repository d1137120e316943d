import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export function reportPath(studyId: string, labels: readonly string[]): string {
  const query = new URLSearchParams({ labels: labels.join(',') });
  return `/api/studies/${encodeURIComponent(studyId)}/report/?${query.toString()}`;
}

/** Fetch the PDF with the bearer token, then hand it to the browser as a download. */
export async function downloadReport({ studyId, labels }: { studyId: string; labels: readonly string[] }) {
  const pdf = await api.getBlob(reportPath(studyId, labels));
  const url = URL.createObjectURL(pdf);
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = `cxr-report-${studyId}.pdf`;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // Let the browser start the download before the URL goes away.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

export function useDownloadReport() {
  return useMutation({ mutationFn: downloadReport });
}
