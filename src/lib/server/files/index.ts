// The files service: publish (store), see and download (access), share and delete (manage), follow (events).
export { create, filesDir, newId, FILES_TOPIC, type FileInfo } from './store';
export { get, open, list, type FilePage, type FileView, type Viewer } from './access';
export { openForDownload } from './download';
export { share, setPublic, remove, onShared, roomIdOf, type SharedListener } from './manage';
export { stream, type FileEvents } from './events';
