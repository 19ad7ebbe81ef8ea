UPDATE owners SET role = 'viewer' WHERE role = 'analyst';
