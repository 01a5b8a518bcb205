import { describeRemoteDriveContract } from '../../test/remote-drive-contract.js';
import { startServerFixture } from '../../test/cloud-fixture.js';

describeRemoteDriveContract('HTTP against the real server', () => startServerFixture());
