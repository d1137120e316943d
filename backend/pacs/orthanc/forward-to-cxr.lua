-- Orthanc: forward every image stored in it to the CXR decision-support service (declared as the
-- DICOM modality "cxr"), except what the service itself sends back (its AE title, CXR_DICOM_AE_TITLE,
-- "CXR_DS" by default): the results then arrive in the same studies.
function OnStoredInstance(instanceId, tags, metadata, origin)
  if metadata['RemoteAET'] ~= 'CXR_DS' then
    SendToModality(instanceId, 'cxr')
  end
end
