#!/bin/sh
# Makes a real rpmdb.sqlite for the scan unit tests with Debian's rpm: rpmbuild builds four tiny
# packages (an epoch; a subpackage whose SOURCERPM names another source; '~' and '^' in a version,
# built for the host arch; a 20 KB description, so its header spans several database pages), then
# rpm --initdb and rpm -i --justdb write them into DIR/root.
# DIR/expected.txt is rpm's own reading of that database, one "name|epoch|version|release|arch|sourcerpm"
# line per package, for the test to compare with berth's.
set -eu
dir=$1
mkdir -p "$dir/specs" "$dir/root"
cat >"$dir/specs/a.spec" <<'SPEC'
Name: berth-a
Epoch: 2
Version: 1.2.3
Release: 4.el9
Summary: fixture
License: MIT
BuildArch: noarch
%description
fixture
%files
SPEC
cat >"$dir/specs/b.spec" <<'SPEC'
Name: berth-src
Version: 0.9
Release: 7.el9_2
Summary: fixture
License: MIT
BuildArch: noarch
%description
fixture
%package -n berth-libs
Summary: fixture subpackage
%description -n berth-libs
fixture
%files -n berth-libs
SPEC
cat >"$dir/specs/c.spec" <<'SPEC'
Name: berth-c
Version: 2.0~rc1^git3
Release: 1
Summary: fixture
License: MIT
%description
fixture
%files
SPEC
{
	printf 'Name: berth-big\nVersion: 3\nRelease: 1\nSummary: fixture\nLicense: MIT\nBuildArch: noarch\n'
	printf '%%description\n'
	i=0
	while [ $i -lt 400 ]; do
		echo "line $i of a long description that makes this header larger than a database page"
		i=$((i + 1))
	done
	printf '%%files\n'
} >"$dir/specs/d.spec"
for s in a b c d; do
	HOME=$dir rpmbuild -bb --quiet --define "_topdir $dir/top" "$dir/specs/$s.spec"
done
export HOME="$dir"
rpm --root "$dir/root" --dbpath /var/lib/rpm --initdb
rpm -i --justdb --nodeps --root "$dir/root" --dbpath /var/lib/rpm $(find "$dir/top/RPMS" -name '*.rpm' | sort)
rpm --root "$dir/root" --dbpath /var/lib/rpm -qa \
	--qf '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}\n' | sort >"$dir/expected.txt"
