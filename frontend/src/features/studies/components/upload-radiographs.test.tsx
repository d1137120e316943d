import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { jsonResponse, type MockRequest, mockFetch } from '@/testing/mock-fetch';
import { renderWithProvider, signInForTest } from '@/testing/render-app';

import { UploadRadiographs } from './upload-radiographs';

const png = (name: string) => new File([new Uint8Array([137, 80, 78, 71])], name, { type: 'image/png' });

function uploadedName(request: MockRequest): string {
  const image = (request.body as FormData).get('image');
  return image instanceof File ? image.name : '';
}

function mockUploads() {
  return mockFetch({
    'POST /api/studies/': (request) => {
      switch (uploadedName(request)) {
        case 'new.png':
          return jsonResponse({ id: 1, status: 'queued', cached: false }, 202);
        case 'seen.png':
          return jsonResponse({ id: 2, status: 'done', cached: true }, 201);
        default:
          return jsonResponse({ message: 'The file is not a PNG, JPEG or DICOM image.', extra: {} }, 415);
      }
    },
  });
}

function resultFor(fileName: string) {
  const list = screen.getByRole('list', { name: 'Upload results' });
  const item = within(list).getByText(fileName).closest('li');
  if (!item) throw new Error(`no upload result for ${fileName}`);
  return item;
}

describe('upload radiographs', () => {
  it('offers a multiple file input labelled "Upload radiographs" for PNG, JPEG and DICOM, and CT zips', () => {
    renderWithProvider(<UploadRadiographs />);
    const input = screen.getByLabelText('Upload radiographs');
    expect(input).toHaveAttribute('type', 'file');
    expect(input).toHaveAttribute('multiple');
    expect(input).toHaveAttribute('accept', '.png,.jpg,.jpeg,.dcm,.zip,image/png,image/jpeg,application/dicom,application/zip');
  });

  it('sends the typed patient reference with each file of the batch, then clears it for the next patient', async () => {
    signInForTest();
    const { requests } = mockUploads();
    renderWithProvider(<UploadRadiographs />);
    const reference = screen.getByLabelText('Patient reference (optional)');

    await userEvent.type(reference, ' MRN-0042/7 ');
    await userEvent.upload(screen.getByLabelText('Upload radiographs'), [png('new.png'), png('seen.png')]);
    await screen.findByText(/2 of 2 uploaded/);
    await userEvent.upload(screen.getByLabelText('Upload radiographs'), png('new.png'));
    await screen.findByText(/3 of 3 uploaded/);

    const sent = requests.map((request) => (request.body as FormData).get('patient_reference'));
    expect(sent).toEqual(['MRN-0042/7', 'MRN-0042/7', null]);
    expect(reference).toHaveValue('');
  });

  it('sends nothing while the patient reference has characters the server refuses', async () => {
    signInForTest();
    const { requests } = mockUploads();
    renderWithProvider(<UploadRadiographs />);
    await userEvent.type(screen.getByLabelText('Patient reference (optional)'), '<Doe, Jane>');

    await userEvent.upload(screen.getByLabelText('Upload radiographs'), png('new.png'));

    expect(screen.getByLabelText('Patient reference (optional)')).toBeInvalid();
    expect(screen.queryByRole('list', { name: 'Upload results' })).not.toBeInTheDocument();
    expect(requests).toEqual([]);
  });

  it('posts each chosen file as the "image" field and shows queued, from cache or the error per file', async () => {
    signInForTest();
    const { requests } = mockUploads();
    renderWithProvider(<UploadRadiographs />);

    await userEvent.upload(screen.getByLabelText('Upload radiographs'), [
      png('new.png'),
      png('seen.png'),
      png('broken.png'),
    ]);

    await screen.findByText('The file is not a PNG, JPEG or DICOM image.');
    expect(requests.map(uploadedName)).toEqual(['new.png', 'seen.png', 'broken.png']);
    expect(requests.every((request) => request.headers.get('Authorization') === 'Bearer access-1')).toBe(true);
    expect(resultFor('new.png')).toHaveTextContent('Queued');
    expect(resultFor('seen.png')).toHaveTextContent('Done (from cache)');
    expect(resultFor('broken.png')).toHaveTextContent('The file is not a PNG, JPEG or DICOM image.');
  });

  it('shows a progress bar for the file being sent and "Waiting…" for the files after it', async () => {
    signInForTest();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    mockFetch({
      'POST /api/studies/': async (request) => {
        if (uploadedName(request) === 'slow.png') await held;
        return jsonResponse({ id: uploadedName(request), status: 'queued', cached: false }, 202);
      },
    });
    renderWithProvider(<UploadRadiographs />);

    await userEvent.upload(screen.getByLabelText('Upload radiographs'), [png('slow.png'), png('next.png')]);

    expect(await screen.findByRole('progressbar', { name: 'Uploading slow.png' })).toBeInTheDocument();
    expect(resultFor('next.png')).toHaveTextContent('Waiting…');
    expect(screen.getByRole('status')).toHaveTextContent('0 of 2 uploaded, 2 in progress.');

    release();

    expect(await screen.findByRole('link', { name: 'Open study next.png' })).toHaveAttribute('href', '/studies/next.png');
    expect(screen.getByRole('link', { name: 'Open study slow.png' })).toBeInTheDocument();
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('2 of 2 uploaded.');
  });

  it('says what was wrong with each refused file: too large, wrong type, unreadable', async () => {
    signInForTest();
    mockFetch({
      'POST /api/studies/': (request) =>
        ({
          'huge.png': () => jsonResponse({ message: 'The file is larger than the 50 MiB limit.', extra: {} }, 413),
          'notes.txt': () => jsonResponse({ message: 'Unsupported file type: upload a PNG or JPEG radiograph.', extra: {} }, 415),
          'half.png': () => jsonResponse({ message: 'The image file is truncated.', extra: {} }, 400),
        })[uploadedName(request)]!(),
    });
    renderWithProvider(<UploadRadiographs />);

    await userEvent.upload(screen.getByLabelText('Upload radiographs'), [png('huge.png'), png('notes.txt'), png('half.png')], {
      applyAccept: false,
    });

    await screen.findByText('The image file is truncated.');
    expect(resultFor('huge.png')).toHaveTextContent('The file is larger than the 50 MiB limit.');
    expect(resultFor('notes.txt')).toHaveTextContent('Unsupported file type: upload a PNG or JPEG radiograph.');
    expect(screen.getAllByRole('alert')).toHaveLength(3);
    expect(screen.getByRole('status')).toHaveTextContent('0 of 3 uploaded, 3 refused.');
  });

  it('uploads files dropped on the drop zone the same way', async () => {
    signInForTest();
    const { requests } = mockUploads();
    renderWithProvider(<UploadRadiographs />);

    fireEvent.drop(screen.getByTestId('drop-zone'), { dataTransfer: { files: [png('new.png')] } });

    expect(await screen.findByText('Queued')).toBeInTheDocument();
    expect(requests.map(uploadedName)).toEqual(['new.png']);
  });
});
